/*
 * config_check.c - mistakes in mod_python directives that `apachectl -t`
 * can catch, so that they do not first show as an error on every request:
 *
 *  - PythonPath must be a Python expression.  Python is never started in
 *    the httpd parent (nor is a process spawned per .htaccess parse), so
 *    this is a small syntax check in C, not a compile: strings and
 *    comments are skipped, brackets must balance and match, strings must
 *    end, and the expression may neither be empty, end in an operator nor
 *    be a statement (an assignment or several with ';').
 *  - A handler "module::object" needs both names.
 *  - The values of mod_python's own PythonOption keys are checked against
 *    what the code that reads them accepts.
 *
 * Each function returns NULL when the value is fine, else the message for
 * httpd to print (allocated in p), naming the directive and the value.
 */
#include "mp_common.h"
#include "mp_config_check.h"

#include "apr_lib.h"

#include <errno.h>
#include <math.h>

/* ------------------------------------------------------------ PythonPath */

#define MP_PATH_MAX_DEPTH 64

typedef struct {
    char open[MP_PATH_MAX_DEPTH];
    int depth;
    char last;                  /* last significant character outside strings */
} mp_path_scan;

/* s points at a quote; the word before it (back to start) may be a string
 * prefix.  Returns the position after the string, or NULL if it does not
 * end. */
static const char *skip_string(const char *s)
{
    char q = *s;
    int triple = (s[1] == q && s[2] == q);

    s += triple ? 3 : 1;
    while (*s) {
        if (*s == '\\' && s[1] != '\0')
            s += 2;             /* an escaped character (raw strings too) */
        else if (*s == q && (!triple || (s[1] == q && s[2] == q)))
            return s + (triple ? 3 : 1);
        else
            s++;
    }
    return NULL;
}

static int is_close(char c) { return c == ')' || c == ']' || c == '}'; }
static char opener(char c) { return c == ')' ? '(' : c == ']' ? '[' : '{'; }

/* One character outside strings; an error message or NULL. */
static const char *scan_char(apr_pool_t *p, mp_path_scan *st, const char *s)
{
    char c = *s;

    if (c == '(' || c == '[' || c == '{') {
        if (st->depth == MP_PATH_MAX_DEPTH)
            return "brackets are nested too deeply";
        st->open[st->depth++] = c;
    }
    else if (is_close(c)) {
        if (st->depth == 0)
            return apr_psprintf(p, "'%c' closes nothing", c);
        if (st->open[st->depth - 1] != opener(c))
            return apr_psprintf(p, "'%c' does not match '%c'", c, st->open[st->depth - 1]);
        st->depth--;
    }
    else if (st->depth == 0 && c == ';') {
        return "';' separates statements: PythonPath is one expression";
    }
    else if (st->depth == 0 && c == '=' && s[1] != '='
             && (st->last == '\0' || !strchr("=!<>:", st->last))) {
        return "an assignment is not an expression: write only the value, "
               "e.g. \"sys.path + ['/srv/lib']\"";
    }
    return NULL;
}

const char *mp_check_python_path(apr_pool_t *p, const char *expr)
{
    mp_path_scan st;
    const char *s = expr, *err;

    memset(&st, 0, sizeof(st));
    while (*s) {
        if (apr_isspace(*s)) {
            s++;
            continue;
        }
        if (*s == '#')
            break;              /* a comment runs to the end of the line */
        if (*s == '\'' || *s == '"') {
            const char *end = skip_string(s);
            if (end == NULL)
                return apr_psprintf(p, MP_APLOGNO(0010) "PythonPath \"%s\": the "
                                    "string %s is never closed", expr, s);
            st.last = *s;
            s = end;
            continue;
        }
        if ((err = scan_char(p, &st, s)) != NULL)
            return apr_psprintf(p, MP_APLOGNO(0010) "PythonPath \"%s\": %s", expr, err);
        st.last = *s++;
    }
    if (st.depth > 0)
        return apr_psprintf(p, MP_APLOGNO(0010) "PythonPath \"%s\": '%c' is never "
                            "closed",
                            expr, st.open[st.depth - 1]);
    if (st.last == '\0')
        return apr_psprintf(p, MP_APLOGNO(0010) "PythonPath \"%s\": empty expression "
                            "(e.g. \"sys.path + ['/srv/lib']\")", expr);
    if (strchr("+-*/%@&|^~<>=.:\\", st.last))
        return apr_psprintf(p, MP_APLOGNO(0010) "PythonPath \"%s\": the expression ends "
                            "with '%c'", expr, st.last);
    return NULL;
}

/* ------------------------------------------------------ handler names */

const char *mp_check_handler(apr_pool_t *p, const char *directive, const char *handler)
{
    const char *sep = strstr(handler, "::"), *obj, *part;

    if (sep == NULL)
        return NULL;
    if (sep == handler)
        return apr_psprintf(p, MP_APLOGNO(0011) "%s \"%s\": the module name before \"::\" "
                            "is empty", directive, handler);
    obj = sep + 2;
    if (*obj == '\0')
        return apr_psprintf(p, MP_APLOGNO(0012) "%s \"%s\": the object name after \"::\" "
                            "is empty (write \"%.*s\" for the default object, or name one)",
                            directive, handler, (int)(sep - handler), handler);
    if (strstr(obj, "::") != NULL)
        return apr_psprintf(p, MP_APLOGNO(0013) "%s \"%s\": \"::\" may appear only once",
                            directive, handler);
    for (part = obj; ; part++) {
        const char *dot = strchr(part, '.');
        if (dot == part || *part == '\0')
            return apr_psprintf(p, MP_APLOGNO(0013) "%s \"%s\": the object name '%s' has an "
                                "empty part", directive, handler, obj);
        if (dot == NULL)
            return NULL;
        part = dot;
    }
}

/* ------------------------------------------------------------ options */

typedef const char *(*mp_value_check)(apr_pool_t *p, const char *val, const void *arg);

/* One of the words in arg (a NULL-terminated list); case as `arg[0]` says. */
typedef struct {
    int nocase;
    const char *words[6];      /* NULL-terminated */
} mp_words;

static const char *check_word(apr_pool_t *p, const char *val, const void *arg)
{
    const mp_words *w = arg;
    const char *list = "";
    int i;

    for (i = 0; w->words[i] != NULL; i++) {
        if (w->nocase ? !strcasecmp(val, w->words[i]) : !strcmp(val, w->words[i]))
            return NULL;
        list = apr_pstrcat(p, list, i ? ", " : "", w->words[i], NULL);
    }
    return apr_psprintf(p, "not one of %s", list);
}

/* A whole number from 0 to *(long *)arg, as Python's int() reads it
 * (surrounding blanks and a '+' allowed). */
static const char *check_count(apr_pool_t *p, const char *val, const void *arg)
{
    long max = *(const long *)arg, v;
    char *end;

    while (apr_isspace(*val))
        val++;
    errno = 0;
    v = apr_isdigit(*val) || (*val == '+' && apr_isdigit(val[1])) ? strtol(val, &end, 10) : -1;
    if (v >= 0)
        while (apr_isspace(*end))
            end++;
    if (v < 0 || errno == ERANGE || *end != '\0' || v > max)
        return apr_psprintf(p, "not a whole number from 0 to %ld", max);
    return NULL;
}

/* A number of seconds, 0 or more (fractions allowed). */
static const char *check_seconds(apr_pool_t *p, const char *val, const void *arg)
{
    char *end;
    double v;

    (void)arg;
    errno = 0;
    v = strtod(val, &end);
    while (apr_isspace(*end))
        end++;
    if (end == val || *end != '\0' || errno == ERANGE || !isfinite(v) || v < 0)
        return apr_pstrdup(p, "not a number of seconds (0 or more)");
    return NULL;
}

/* A number of seconds above 0, as Python's float() reads it (the session
 * stores' timeouts).  A value with '_' (which float() allows between
 * digits) is left to the run-time check. */
static const char *check_positive_seconds(apr_pool_t *p, const char *val, const void *arg)
{
    char *end;
    double v;

    (void)arg;
    if (strchr(val, '_') != NULL)
        return NULL;
    errno = 0;
    v = strtod(val, &end);
    while (apr_isspace(*end))
        end++;
    if (end == val || *end != '\0' || errno == ERANGE || !isfinite(v) || !(v > 0)
        || strpbrk(val, "xX") != NULL)   /* strtod's hexadecimal; float() has none */
        return apr_pstrdup(p, "not a number of seconds above 0");
    return NULL;
}

/* Digits only (no blanks, no sign), at least *arg: the memcached item size. */
static const char *check_bytes(apr_pool_t *p, const char *val, const void *arg)
{
    long min = *(const long *)arg;
    const char *c;

    for (c = val; apr_isdigit(*c); c++)
        ;
    if (c == val || *c != '\0' || (strlen(val) < 10 && atol(val) < min))
        return apr_psprintf(p, "not a size in bytes (digits only, at least %ld)", min);
    return NULL;
}

/* "module[::callable]" with a module. */
static const char *check_app(apr_pool_t *p, const char *val, const void *arg)
{
    (void)arg;
    while (apr_isspace(*val))
        val++;
    if (*val == ':' || *val == '\0')
        return apr_pstrdup(p, "the module name is empty (expected module[::callable])");
    return NULL;
}

static const mp_words mechanisms = {1, {"auto", "inotify", "stat", NULL}};
static const mp_words booleans = {1, {"yes", "no", "true", "false", NULL}};
static const mp_words booleans2 = {1, {"on", "off", "1", "0", NULL}};
static const mp_words session_types = {0, {"FileSession", "DbmSession", "MemorySession",
                                           "RedisSession", "MemcachedSession", NULL}};
static const long max_int = 2147483647L, max_locks = 65536L, min_item = 1024L;

/* Python's true_or_false (Session.py): either list, blanks around allowed. */
static const char *check_bool(apr_pool_t *p, const char *val, const void *arg)
{
    const char *b = val, *e = val + strlen(val);
    char *word;

    (void)arg;
    while (apr_isspace(*b))
        b++;
    while (e > b && apr_isspace(e[-1]))
        e--;
    word = apr_pstrmemdup(p, b, (apr_size_t)(e - b));
    if (check_word(p, word, &booleans) == NULL || check_word(p, word, &booleans2) == NULL)
        return NULL;
    return apr_pstrdup(p, "not a boolean (yes/no, true/false, on/off, 1/0)");
}

static const struct {
    const char *key;
    mp_value_check check;
    const void *arg;
} option_checks[] = {
    {"mod_python.autoreload.mechanism", check_word, &mechanisms},
    {"mod_python.autoreload.interval", check_seconds, NULL},
    {"mod_python.mutex_locks", check_count, &max_locks},
    {"mod_python.util.max_memory_size", check_count, &max_int},
    {"mod_python.util.max_fields", check_count, &max_int},
    {"mod_python.util.max_files", check_count, &max_int},
    {"mod_python.file_session.enable_fast_cleanup", check_bool, NULL},
    {"mod_python.file_session.verify_session_timeout", check_bool, NULL},
    {"mod_python.file_session.cleanup_grace_period", check_count, &max_int},
    {"mod_python.file_session.cleanup_time_limit", check_count, &max_int},
    {"mod_python.session.session_type", check_word, &session_types},
    {"mod_python.session.cleanup_chance", check_count, &max_int},
    {"mod_python.session.lock_timeout", check_positive_seconds, NULL},
    {"mod_python.session.store_timeout", check_positive_seconds, NULL},
    {"mod_python.session.memcached_max_item_size", check_bytes, &min_item},
    {"mod_python.wsgi.application", check_app, NULL},
};

const char *mp_check_option(apr_pool_t *p, const char *key, const char *val)
{
    size_t i;

    if (val == NULL || *val == '\0')
        return NULL;            /* an empty value unsets the option */
    for (i = 0; i < sizeof(option_checks) / sizeof(option_checks[0]); i++) {
        if (strcasecmp(key, option_checks[i].key) == 0) {
            const char *why = option_checks[i].check(p, val, option_checks[i].arg);
            return why ? apr_psprintf(p, MP_APLOGNO(0014) "PythonOption %s \"%s\": %s",
                                      key, val, why) : NULL;
        }
    }
    return NULL;
}

/* ------------------------------------------------- unknown option keys */

/* Every PythonOption key under "mod_python." that mod_python or its
 * library reads: the option table of the manual (docs/configuration.rst),
 * which test/test_manual.py keeps equal to this list. */
static const char *const known_keys[] = {
    "mod_python.autoreload.mechanism",
    "mod_python.autoreload.interval",
    "mod_python.mutex_directory",
    "mod_python.mutex_locks",
    "mod_python.wsgi.application",
    "mod_python.wsgi.base_uri",
    "mod_python.util.max_memory_size",
    "mod_python.util.max_fields",
    "mod_python.util.max_files",
    "mod_python.psp.cache_database_filename",
    "mod_python.session.session_type",
    "mod_python.session.cookie_name",
    "mod_python.session.application_domain",
    "mod_python.session.application_path",
    "mod_python.session.database_directory",
    "mod_python.session.cleanup_chance",
    "mod_python.session.store_secret",
    "mod_python.session.redis_url",
    "mod_python.session.redis_prefix",
    "mod_python.session.memcached_servers",
    "mod_python.session.memcached_prefix",
    "mod_python.session.memcached_max_item_size",
    "mod_python.session.lock_timeout",
    "mod_python.session.store_timeout",
    "mod_python.dbm_session.database_filename",
    "mod_python.dbm_session.database_directory",
    "mod_python.file_session.database_directory",
    "mod_python.file_session.enable_fast_cleanup",
    "mod_python.file_session.verify_session_timeout",
    "mod_python.file_session.cleanup_grace_period",
    "mod_python.file_session.cleanup_time_limit",
};

#define MP_KEY_MAX 80

/* Edit distance of a and b, ignoring case; a value above MP_KEY_MAX when
 * either is longer than that. */
static int distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    int row[MP_KEY_MAX + 1];

    if (la > MP_KEY_MAX || lb > MP_KEY_MAX)
        return MP_KEY_MAX + 1;
    for (j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (j = 1; j <= lb; j++) {
            int up = row[j];
            int cost = apr_tolower(a[i - 1]) == apr_tolower(b[j - 1]) ? 0 : 1;
            int best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *mp_check_option_key(apr_pool_t *p, const char *key)
{
    const char *best = NULL;
    int best_d = 4;             /* suggest a key at most 3 edits away */
    size_t i;

    if (strncasecmp(key, "mod_python.", 11) != 0)
        return NULL;
    for (i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++) {
        int d = distance(key, known_keys[i]);
        if (d == 0)
            return NULL;
        if (d < best_d) {
            best_d = d;
            best = known_keys[i];
        }
    }
    return apr_psprintf(p, MP_APLOGNO(0015) "PythonOption %s: mod_python reads no such key, "
                        "so it has no effect%s%s%s (keys under \"mod_python.\" are "
                        "mod_python's own)", key, best ? "; did you mean " : "",
                        best ? best : "", best ? "?" : "");
}
