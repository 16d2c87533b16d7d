/*
 * config.c - mod_python's configuration: the phase catalogue, typed
 * per-directory and per-server configuration (create/merge) and the
 * directive handlers named by the command table in mod_python.c.
 *
 * See "Apache Configuration Directives" in the mod_python 3.5 manual and
 * README.md.  Everything here runs at configuration
 * time (or .htaccess parse time), except the merges, which httpd runs per
 * request, and the small lookup helpers used by the dispatcher.
 *
 * Licensed under the Apache License, Version 2.0 (see LICENSE).
 */
#include "mp_common.h"
#include "mp_config.h"
#include "mp_config_check.h"

#include "apr_lib.h"
#include "apr_fnmatch.h"
#include "apr_file_info.h"

/* ------------------------------------------------------------------ */
/* Phase catalogue                                                     */
/* ------------------------------------------------------------------ */

const char *const mp_phase_names[MP_PHASE_COUNT] = {
    "PythonPostReadRequestHandler",
    "PythonTransHandler",
    "PythonHeaderParserHandler",
    "PythonInitHandler",
    "PythonAccessHandler",
    "PythonAuthenHandler",
    "PythonAuthzHandler",
    "PythonTypeHandler",
    "PythonFixupHandler",
    "PythonHandler",
    "PythonLogHandler",
    "PythonCleanupHandler",
    "PythonConnectionHandler",
};

int mp_phase_lookup(const char *name)
{
    int i;

    if (name == NULL) {
        return -1;
    }
    for (i = 0; i < MP_PHASE_COUNT; i++) {
        if (strcmp(name, mp_phase_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* Phases PythonHandlerModule registers (mod_python 3.5 manual: PythonHandlerModule). */
static const mp_phase_t mp_module_phases[] = {
    MP_PHASE_POST_READ_REQUEST, MP_PHASE_TRANS, MP_PHASE_HEADER_PARSER,
    MP_PHASE_ACCESS, MP_PHASE_AUTHEN, MP_PHASE_AUTHZ, MP_PHASE_TYPE,
    MP_PHASE_FIXUP, MP_PHASE_HANDLER, MP_PHASE_INIT, MP_PHASE_LOG,
    MP_PHASE_CLEANUP,
};

/* ------------------------------------------------------------------ */
/* Create and merge                                                    */
/* ------------------------------------------------------------------ */

/* The own table of a section: the only layer written to (at configuration
 * time, by the directive handlers). */
static apr_table_t *mp_own(const mp_layer *l)
{
    return l->t;
}

static const mp_layer *mp_layer_new(apr_pool_t *p)
{
    mp_layer *l = apr_palloc(p, sizeof(*l));

    l->t = apr_table_make(p, 4);
    l->under = NULL;
    return l;
}

static int mp_layer_empty(const mp_layer *l)
{
    return l == NULL || (l->under == NULL && apr_is_empty_table(l->t));
}

/* add's layers over base's; shares whichever side is empty.  Allocates
 * one small node per non-empty layer of add (sections, not entries). */
static const mp_layer *mp_merge_layers(apr_pool_t *p, const mp_layer *base,
                                       const mp_layer *add)
{
    mp_layer *n;

    if (add == NULL) {
        return base;
    }
    if (apr_is_empty_table(add->t)) {
        return mp_merge_layers(p, base, add->under);
    }
    if (mp_layer_empty(base)) {
        return add;
    }
    n = apr_palloc(p, sizeof(*n));
    n->t = add->t;
    n->under = mp_merge_layers(p, base, add->under);
    return n;
}

apr_table_t *mp_layer_flatten(apr_pool_t *p, const mp_layer *l)
{
    apr_table_t *t;

    if (l == NULL) {
        return apr_table_make(p, 1);
    }
    if (l->under == NULL) {
        return apr_table_copy(p, l->t);
    }
    t = mp_layer_flatten(p, l->under);
    apr_table_overlap(t, l->t, APR_OVERLAP_TABLES_SET);
    return t;
}

const char *mp_layer_get(const mp_layer *l, const char *key)
{
    for (; l != NULL; l = l->under) {
        const char *v = apr_table_get(l->t, key);
        if (v != NULL) {
            return v;
        }
    }
    return NULL;
}

void *mp_create_dir_config(apr_pool_t *p, char *dir)
{
    mp_dir_cfg *dc = apr_pcalloc(p, sizeof(*dc));

    dc->autoreload = MP_UNSET;
    dc->debug = MP_UNSET;
    dc->enable_pdb = MP_UNSET;
    dc->interp_per_directory = MP_UNSET;
    dc->interp_per_directive = MP_UNSET;
    dc->directives = mp_layer_new(p);
    dc->options = mp_layer_new(p);
    /* handlers[] and ext_handlers are NULL (calloc); the filter hashes
     * always exist so that lookups never need a NULL check. */
    dc->in_filters = apr_hash_make(p);
    dc->out_filters = apr_hash_make(p);
    dc->config_dir = dir ? apr_pstrdup(p, dir) : NULL;
    dc->d_is_location = 0;
    return dc;
}

/* Server tables are merged once, at configuration time: a fresh table. */
static apr_table_t *mp_merge_tables(apr_pool_t *p, const apr_table_t *base,
                                    const apr_table_t *add)
{
    apr_table_t *t = apr_table_copy(p, base);

    if (!apr_is_empty_table(add)) {
        apr_table_overlap(t, add, APR_OVERLAP_TABLES_SET);
    }
    return t;
}

/* Per-key overlay of two hashes; shares a side when the other is empty
 * (the hashes are never modified after the configuration is read). */
static apr_hash_t *mp_merge_hashes(apr_pool_t *p, apr_hash_t *base, apr_hash_t *add)
{
    if (add == NULL || apr_hash_count(add) == 0) {
        return base;
    }
    if (base == NULL || apr_hash_count(base) == 0) {
        return add;
    }
    return apr_hash_overlay(p, add, base);
}

static int mp_hash_empty(apr_hash_t *h)
{
    return h == NULL || apr_hash_count(h) == 0;
}

/* No mod_python directive in d: every flag, PythonInterpreter and
 * PythonPath leaves its name in the directives table, every handler line
 * a bit in phases. */
static int mp_dir_unset(const mp_dir_cfg *d)
{
    return d->phases == 0 && d->d_is_location == 0 && mp_layer_empty(d->directives)
        && mp_layer_empty(d->options) && mp_hash_empty(d->in_filters)
        && mp_hash_empty(d->out_filters);
}

#define MP_MERGE_INT(f) (add->f != MP_UNSET ? add->f : base->f)
#define MP_MERGE_PTR(f) (add->f != NULL ? add->f : base->f)

void *mp_merge_dir_config(apr_pool_t *p, void *basev, void *addv)
{
    const mp_dir_cfg *base = basev;
    const mp_dir_cfg *add = addv;
    mp_dir_cfg *m;
    int i;

    /* The common case per request: sections without mod_python directives
     * on the way to the one with them.  Merged onto such a base, add comes
     * out unchanged: no copy. */
    if (mp_dir_unset(base) && (add->config_dir != NULL || base->config_dir == NULL)) {
        return addv;
    }
    m = apr_palloc(p, sizeof(*m));

    m->autoreload = MP_MERGE_INT(autoreload);
    m->debug = MP_MERGE_INT(debug);
    m->enable_pdb = MP_MERGE_INT(enable_pdb);
    m->interp_per_directory = MP_MERGE_INT(interp_per_directory);
    m->interp_per_directive = MP_MERGE_INT(interp_per_directive);
    m->interpreter = MP_MERGE_PTR(interpreter);
    m->python_path = MP_MERGE_PTR(python_path);

    m->directives = mp_merge_layers(p, base->directives, add->directives);
    m->options = mp_merge_layers(p, base->options, add->options);

    /* A phase list of the more specific section replaces the inherited one. */
    for (i = 0; i < MP_PHASE_COUNT; i++) {
        m->handlers[i] = MP_MERGE_PTR(handlers[i]);
    }
    m->phases = base->phases | add->phases;
    m->ext_handlers = mp_merge_hashes(p, base->ext_handlers, add->ext_handlers);
    m->in_filters = mp_merge_hashes(p, base->in_filters, add->in_filters);
    m->out_filters = mp_merge_hashes(p, base->out_filters, add->out_filters);

    if (add->config_dir != NULL) {
        m->config_dir = add->config_dir;
        m->d_is_location = add->d_is_location;
    }
    else {
        m->config_dir = base->config_dir;
        m->d_is_location = base->d_is_location;
    }
    return m;
}

void *mp_create_srv_config(apr_pool_t *p, server_rec *s)
{
    mp_srv_cfg *sc = apr_pcalloc(p, sizeof(*sc));

    (void)s;
    sc->directives = apr_table_make(p, 4);
    sc->options = apr_table_make(p, 4);
    sc->connection = NULL;
    sc->imports = apr_array_make(p, 2, sizeof(mp_import));
    sc->optimize = MP_UNSET;
    return sc;
}

void *mp_merge_srv_config(apr_pool_t *p, void *basev, void *addv)
{
    const mp_srv_cfg *base = basev;
    const mp_srv_cfg *add = addv;
    mp_srv_cfg *m = apr_palloc(p, sizeof(*m));

    m->directives = mp_merge_tables(p, base->directives, add->directives);
    m->options = mp_merge_tables(p, base->options, add->options);
    m->connection = MP_MERGE_PTR(connection);
    m->imports = add->imports;        /* not inherited: each server its own */
    m->optimize = MP_MERGE_INT(optimize);
    m->venv = MP_MERGE_PTR(venv);     /* a virtual host without one: the server's */
    return m;
}

#undef MP_MERGE_INT
#undef MP_MERGE_PTR

/* ------------------------------------------------------------------ */
/* Paths and patterns                                                  */
/* ------------------------------------------------------------------ */

static const char *mp_add_slash(apr_pool_t *p, const char *dir)
{
    size_t len = strlen(dir);

    if (len > 0 && dir[len - 1] == '/') {
        return dir;
    }
    return apr_pstrcat(p, dir, "/", NULL);
}

const char *mp_canonical_dir(apr_pool_t *p, const char *dir)
{
    char *path = NULL;

    if (dir == NULL) {
        return NULL;
    }
    if (apr_filepath_merge(&path, NULL, dir, APR_FILEPATH_TRUENAME, p) != APR_SUCCESS
        || path == NULL) {
        return mp_add_slash(p, dir);
    }
    return mp_add_slash(p, path);
}

static int mp_pattern_matches(const mp_handler *h, const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    if (h->regex != NULL) {
        return ap_regexec(h->regex, s, 0, NULL, 0) == 0;
    }
    return apr_fnmatch(h->directory, s, APR_FNM_PATHNAME) == APR_SUCCESS;
}

const char *mp_resolve_directory(apr_pool_t *p, const mp_handler *h, const char *filename)
{
    size_t len, i;
    char *buf;

    if (h == NULL || h->directory == NULL || h->is_location
        || (!h->is_fnmatch && h->regex == NULL) || filename == NULL || *filename == '\0') {
        return h ? h->directory : NULL;
    }
    len = strlen(filename);
    buf = apr_palloc(p, len + 2);
    /* Candidates: every prefix ending at a '/', then the whole name; each
     * tried with its trailing slash, then without. */
    for (i = 0; i <= len; i++) {
        if (i < len && filename[i] != '/') {
            continue;
        }
        if (i == len && len > 0 && filename[len - 1] == '/') {
            break;                    /* already tried as a prefix */
        }
        memcpy(buf, filename, i);
        buf[i] = '/';
        buf[i + 1] = '\0';
        if (mp_pattern_matches(h, buf)) {
            return buf;
        }
        buf[i] = '\0';
        if (mp_pattern_matches(h, buf)) {
            buf[i] = '/';
            return buf;
        }
    }
    return h->directory;
}

const char *mp_filename_extension(apr_pool_t *p, const char *filename)
{
    const char *base, *dot;

    if (filename == NULL) {
        return NULL;
    }
    base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    dot = strchr(base, '.');
    if (dot == NULL) {
        return NULL;
    }
    return p ? apr_pstrdup(p, dot) : dot;
}

mp_handler *mp_config_phase_handlers(const mp_dir_cfg *dc, int phase,
                                     const char *filename, const char **ext)
{
    const char *e, *name;
    char key[256];
    size_t nlen, elen;

    if (ext != NULL) {
        *ext = NULL;
    }
    if (dc == NULL || phase < 0 || phase >= MP_PHASE_COUNT) {
        return NULL;
    }
    if (dc->ext_handlers == NULL || filename == NULL
        || (e = mp_filename_extension(NULL, filename)) == NULL) {
        return dc->handlers[phase];
    }
    name = mp_phase_names[phase];
    nlen = strlen(name);
    elen = strlen(e);
    if (nlen + elen < sizeof(key)) {
        mp_handler *h;

        memcpy(key, name, nlen);
        memcpy(key + nlen, e, elen + 1);
        h = apr_hash_get(dc->ext_handlers, key, (apr_ssize_t)(nlen + elen));
        if (h != NULL) {
            if (ext != NULL) {
                *ext = e;
            }
            return h;
        }
    }
    else {
        /* Absurdly long extension: compare against the keys instead. */
        apr_hash_index_t *hi;

        for (hi = apr_hash_first(NULL, dc->ext_handlers); hi; hi = apr_hash_next(hi)) {
            const void *k;
            apr_ssize_t klen;
            void *v;

            apr_hash_this(hi, &k, &klen, &v);
            if ((size_t)klen == nlen + elen && memcmp(k, name, nlen) == 0
                && memcmp((const char *)k + nlen, e, elen) == 0) {
                if (ext != NULL) {
                    *ext = e;
                }
                return v;
            }
        }
    }
    return dc->handlers[phase];
}

/* ------------------------------------------------------------------ */
/* Directory recorded for a handler/filter directive (§1.4)            */
/* ------------------------------------------------------------------ */

/* Words of a section's argument text ("~ \"re\">" -> "~", "re"). */
static const char *mp_section_word(apr_pool_t *p, const char **args)
{
    return ap_getword_conf(p, args);
}

static const char *mp_section_args(apr_pool_t *p, const ap_directive_t *d)
{
    const char *args = d->args ? d->args : "";
    const char *end = ap_strrchr_c(args, '>');

    return end ? apr_pstrndup(p, args, (apr_size_t)(end - args)) : args;
}

/* Fill proto->directory/regex/is_fnmatch/is_location for the directive
 * being processed.  Returns an error string or NULL. */
static const char *mp_directive_context(cmd_parms *cmd, mp_handler *proto)
{
    apr_pool_t *p = cmd->pool;
    const ap_directive_t *sec;
    const char *args, *path;
    int is_loc = 0, is_match = 0;

    proto->directory = NULL;
    proto->regex = NULL;
    proto->is_fnmatch = 0;
    proto->is_location = 0;
    proto->htaccess = 0;

    for (sec = cmd->directive ? cmd->directive->parent : NULL; sec; sec = sec->parent) {
        const char *name = sec->directive;

        if (name == NULL) {
            continue;
        }
        if (strcasecmp(name, "<Location") == 0) {
            is_loc = 1;
        }
        else if (strcasecmp(name, "<LocationMatch") == 0) {
            is_loc = 1;
            is_match = 1;
        }
        else if (strcasecmp(name, "<Directory") == 0) {
            ;
        }
        else if (strcasecmp(name, "<DirectoryMatch") == 0) {
            is_match = 1;
        }
        else if (strcasecmp(name, "<VirtualHost") == 0) {
            return NULL;              /* server level of a vhost */
        }
        else {
            continue;                 /* <Files>, <Limit>, <If>, ...: look outward */
        }
        break;
    }

    if (sec == NULL) {
        /* Not in a directory/location section: .htaccess or server level.
         * A .htaccess file is parsed with neither RSRC_CONF nor ACCESS_CONF
         * allowed; its directory is the one containing the file. */
        const char *dir = NULL;

        if (cmd->path == NULL || (cmd->override & (RSRC_CONF | ACCESS_CONF))) {
            return NULL;
        }
        if (cmd->directive && cmd->directive->filename) {
            const char *slash = ap_strrchr_c(cmd->directive->filename, '/');

            if (slash) {
                dir = apr_pstrndup(p, cmd->directive->filename,
                                   (apr_size_t)(slash - cmd->directive->filename + 1));
            }
        }
        proto->directory = mp_canonical_dir(p, dir ? dir : cmd->path);
        proto->htaccess = 1;
        return NULL;
    }

    args = mp_section_args(p, sec);
    path = mp_section_word(p, &args);
    if (!is_match && strcmp(path, "~") == 0) {
        path = mp_section_word(p, &args);
        is_match = 1;
    }
    proto->is_location = is_loc;
    if (is_match) {
        proto->directory = path;
        proto->regex = ap_pregcomp(p, path, AP_REG_EXTENDED);
        if (proto->regex == NULL) {
            return apr_psprintf(p, "%s: regular expression '%s' (of the enclosing %s>) "
                                "could not be compiled", cmd->cmd->name, path,
                                sec->directive);
        }
    }
    else if (apr_fnmatch_test(path)) {
        proto->directory = path;
        proto->is_fnmatch = 1;
    }
    else if (is_loc) {
        proto->directory = path;
    }
    else {
        proto->directory = mp_canonical_dir(p, path);
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Handler lines                                                       */
/* ------------------------------------------------------------------ */

/* Whitespace-separated words of [s, end). */
static apr_array_header_t *mp_split_words(apr_pool_t *p, const char *s, const char *end)
{
    apr_array_header_t *words = apr_array_make(p, 2, sizeof(const char *));

    while (s < end) {
        const char *w;

        while (s < end && apr_isspace(*s)) {
            s++;
        }
        if (s >= end) {
            break;
        }
        w = s;
        while (s < end && !apr_isspace(*s)) {
            s++;
        }
        APR_ARRAY_PUSH(words, const char *) = apr_pstrndup(p, w, (apr_size_t)(s - w));
    }
    return words;
}

/* A new list of the handler words, each entry a copy of proto. */
static mp_handler *mp_make_list(apr_pool_t *p, const apr_array_header_t *words,
                                const mp_handler *proto)
{
    mp_handler *head = NULL, **tail = &head;
    int i;

    for (i = 0; i < words->nelts; i++) {
        mp_handler *h = apr_palloc(p, sizeof(*h));

        *h = *proto;
        h->handler = APR_ARRAY_IDX(words, i, const char *);
        h->next = NULL;
        *tail = h;
        tail = &h->next;
    }
    return head;
}

static void mp_list_append(mp_handler **head, mp_handler *list)
{
    while (*head != NULL) {
        head = &(*head)->next;
    }
    *head = list;
}

typedef struct {
    apr_array_header_t *handlers;
    apr_array_header_t *exts;     /* NULL when there is no "| .ext" part */
} mp_hline;

/* Parse "handler [handler ...] [| .ext [.ext ...]]"; error or NULL. */
static const char *mp_parse_hline(cmd_parms *cmd, const char *args, mp_hline *hl)
{
    const char *bar = args ? strchr(args, '|') : NULL;
    const char *end = args ? args + strlen(args) : NULL;
    int i;

    /* words end up in the handler entries: config (cmd->pool) lifetime */
    hl->handlers = mp_split_words(cmd->pool, args ? args : "",
                                  bar ? bar : (end ? end : ""));
    hl->exts = NULL;
    if (hl->handlers->nelts == 0) {
        return apr_psprintf(cmd->pool, "%s requires at least one handler "
                            "(module[::object])%s", cmd->cmd->name,
                            bar ? " before \"|\"" : "");
    }
    for (i = 0; i < hl->handlers->nelts; i++) {
        const char *err = mp_check_handler(cmd->pool, cmd->cmd->name,
                                           APR_ARRAY_IDX(hl->handlers, i, const char *));
        if (err != NULL) {
            return err;
        }
    }
    if (bar != NULL) {
        hl->exts = mp_split_words(cmd->pool, bar + 1, end);
        if (hl->exts->nelts == 0) {
            hl->exts = NULL;          /* "mod |": a plain list */
        }
    }
    return NULL;
}

/* Register the parsed line for one phase in dc. */
static void mp_register_hline(apr_pool_t *p, mp_dir_cfg *dc, int phase,
                              const mp_hline *hl, const mp_handler *proto)
{
    int i;

    dc->phases |= 1u << phase;
    if (hl->exts == NULL) {
        mp_list_append(&dc->handlers[phase], mp_make_list(p, hl->handlers, proto));
        return;
    }
    if (dc->ext_handlers == NULL) {
        dc->ext_handlers = apr_hash_make(p);
    }
    for (i = 0; i < hl->exts->nelts; i++) {
        const char *key = apr_pstrcat(p, mp_phase_names[phase],
                                      APR_ARRAY_IDX(hl->exts, i, const char *), NULL);
        mp_handler *list = apr_hash_get(dc->ext_handlers, key, APR_HASH_KEY_STRING);

        mp_list_append(&list, mp_make_list(p, hl->handlers, proto));
        apr_hash_set(dc->ext_handlers, key, APR_HASH_KEY_STRING, list);
    }
}

const char *mp_cmd_handler(cmd_parms *cmd, void *mconfig, const char *args)
{
    mp_dir_cfg *dc = mconfig;
    intptr_t phase = (intptr_t)cmd->info;    /* MP_PHASE_INFO() */
    mp_handler proto;
    mp_hline hl;
    const char *err;

    if (phase < 0 || phase >= MP_PHASE_CONNECTION) {
        return apr_psprintf(cmd->pool, "%s: not a mod_python phase directive",
                            cmd->cmd->name);
    }
    if ((phase == MP_PHASE_POST_READ_REQUEST || phase == MP_PHASE_TRANS)
        && args != NULL && strchr(args, '|') != NULL) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           " does not accept \"| .ext\" syntax.", NULL);
    }
    if ((err = mp_parse_hline(cmd, args, &hl)) != NULL) {
        return err;
    }
    memset(&proto, 0, sizeof(proto));
    if ((err = mp_directive_context(cmd, &proto)) != NULL) {
        return err;
    }
    mp_register_hline(cmd->pool, dc, (mp_phase_t)phase, &hl, &proto);
    dc->d_is_location = proto.is_location;
    return NULL;
}

const char *mp_cmd_handler_module(cmd_parms *cmd, void *mconfig, const char *args)
{
    mp_dir_cfg *dc = mconfig;
    mp_handler proto;
    mp_hline hl;
    const char *err;
    size_t i;

    if ((err = mp_parse_hline(cmd, args, &hl)) != NULL) {
        return err;
    }
    memset(&proto, 0, sizeof(proto));
    if ((err = mp_directive_context(cmd, &proto)) != NULL) {
        return err;
    }
    proto.silent = 1;
    for (i = 0; i < sizeof(mp_module_phases) / sizeof(mp_module_phases[0]); i++) {
        mp_register_hline(cmd->pool, dc, mp_module_phases[i], &hl, &proto);
    }
    dc->d_is_location = proto.is_location;
    return NULL;
}

const char *mp_cmd_connection_handler(cmd_parms *cmd, void *mconfig, const char *args)
{
    mp_srv_cfg *sc = mp_srv_config(cmd->server);
    mp_handler proto;
    mp_hline hl;
    const char *err;

    (void)mconfig;
    if ((err = mp_parse_hline(cmd, args, &hl)) != NULL) {
        return err;
    }
    if (hl.exts != NULL) {
        /* 3.5 filed such a list under a key nothing ever reads. */
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server, MP_APLOGNO(0001)
                     "%s:%d: PythonConnectionHandler with \"| .ext\" never runs; ignored",
                     cmd->directive ? cmd->directive->filename : "?",
                     cmd->directive ? cmd->directive->line_num : 0);
        return NULL;
    }
    memset(&proto, 0, sizeof(proto));
    if ((err = mp_directive_context(cmd, &proto)) != NULL) {
        return err;
    }
    mp_list_append(&sc->connection, mp_make_list(cmd->pool, hl.handlers, &proto));
    return NULL;
}

const char *mp_cmd_filter(cmd_parms *cmd, void *mconfig, const char *handler, const char *name)
{
    mp_dir_cfg *dc = mconfig;
    const mp_filter_kind *kind = cmd->info;
    mp_handler *h;
    const char *err;
    char *key;

    if (handler == NULL || *handler == '\0') {
        return apr_psprintf(cmd->pool, "%s requires a handler (module[::callable])",
                            cmd->cmd->name);
    }
    if (name == NULL || *name == '\0') {
        name = handler;
    }
    if ((err = mp_check_handler(cmd->pool, cmd->cmd->name, handler)) != NULL) {
        return err;
    }
    h = apr_pcalloc(cmd->pool, sizeof(*h));
    if ((err = mp_directive_context(cmd, h)) != NULL) {
        return err;
    }
    h->handler = apr_pstrdup(cmd->pool, handler);
    h->next = NULL;

    if (kind == NULL) {
        return apr_psprintf(cmd->pool, "%s: no filter entry point", cmd->cmd->name);
    }
    if (kind->is_input) {
        ap_register_input_filter(name, kind->in, NULL, AP_FTYPE_RESOURCE);
    }
    else {
        ap_register_output_filter(name, kind->out, NULL, AP_FTYPE_RESOURCE);
    }
    key = apr_pstrdup(cmd->pool, name);
    ap_str_tolower(key);
    apr_hash_set(kind->is_input ? dc->in_filters : dc->out_filters,
                 key, APR_HASH_KEY_STRING, h);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Flags, strings, options                                             */
/* ------------------------------------------------------------------ */

/* Directive at server/vhost level, outside any section (§1.1). */
static int mp_top_level(const cmd_parms *cmd)
{
    return cmd->path == NULL;
}

static void mp_set_directive(cmd_parms *cmd, mp_dir_cfg *dc, const char *val, int server_too)
{
    apr_table_set(mp_own(dc->directives), cmd->cmd->name, val);
    if (server_too && mp_top_level(cmd)) {
        apr_table_set(mp_srv_config(cmd->server)->directives, cmd->cmd->name, val);
    }
}

/* Set the int flag at offset cmd->info (MP_FLAG_SLOT()) of the directory
 * config, and record it for get_config(): for the server too when
 * server_too and written outside any section. */
static const char *set_flag(cmd_parms *cmd, mp_dir_cfg *dc, int on, int server_too)
{
    *(int *)((char *)dc + (apr_size_t)cmd->info) = on ? 1 : 0;
    mp_set_directive(cmd, dc, on ? "1" : "0", server_too);
    return NULL;
}

const char *mp_cmd_flag(cmd_parms *cmd, void *mconfig, int on)
{
    return set_flag(cmd, mconfig, on, 1);
}

const char *mp_cmd_dir_flag(cmd_parms *cmd, void *mconfig, int on)
{
    return set_flag(cmd, mconfig, on, 0);
}

const char *mp_cmd_interpreter(cmd_parms *cmd, void *mconfig, const char *arg)
{
    mp_dir_cfg *dc = mconfig;

    if (arg == NULL || *arg == '\0') {
        return "PythonInterpreter requires a non-empty interpreter name";
    }
    dc->interpreter = apr_pstrdup(cmd->pool, arg);
    mp_set_directive(cmd, dc, dc->interpreter, 1);
    return NULL;
}

const char *mp_cmd_path(cmd_parms *cmd, void *mconfig, const char *arg)
{
    mp_dir_cfg *dc = mconfig;
    const char *err = mp_check_python_path(cmd->pool, arg ? arg : "");

    if (err != NULL) {
        return err;
    }
    dc->python_path = apr_pstrdup(cmd->pool, arg ? arg : "");
    mp_set_directive(cmd, dc, dc->python_path, 1);
    return NULL;
}

/* Whether a warning about the configuration being read is worth logging:
 * once when httpd starts (it reads its files twice then: the preflight,
 * which is all `apachectl -t` does, and generation 1), once per restart,
 * never for .htaccess files (read for requests). */
static int warn_this_read(void)
{
    int state = ap_state_query(AP_SQ_MAIN_STATE);

    return state == AP_SQ_MS_CREATE_PRE_CONFIG
        || (state == AP_SQ_MS_CREATE_CONFIG && ap_state_query(AP_SQ_CONFIG_GEN) > 1);
}

const char *mp_cmd_option(cmd_parms *cmd, void *mconfig, const char *key, const char *val)
{
    mp_dir_cfg *dc = mconfig;
    const char *err;

    if (val == NULL) {
        val = "";
    }
    if ((err = mp_check_option(cmd->pool, key, val)) != NULL) {
        return err;
    }
    if (warn_this_read() && (err = mp_check_option_key(cmd->temp_pool, key)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server, "%s (%s, line %d)", err,
                     cmd->directive ? cmd->directive->filename : "?",
                     cmd->directive ? cmd->directive->line_num : 0);
    }
    apr_table_set(mp_own(dc->options), key, val);
    if (mp_top_level(cmd)) {
        apr_table_set(mp_srv_config(cmd->server)->options, key, val);
    }
    return NULL;
}

const char *mp_cmd_import(cmd_parms *cmd, void *mconfig, const char *module, const char *interp)
{
    mp_srv_cfg *sc = mp_srv_config(cmd->server);
    mp_import *imp;

    const char *err = mp_check_handler(cmd->pool, cmd->cmd->name, module);

    (void)mconfig;
    if (err != NULL) {
        return err;
    }
    imp = apr_array_push(sc->imports);
    imp->module = apr_pstrdup(cmd->pool, module);
    imp->interpreter = apr_pstrdup(cmd->pool, interp);
    return NULL;
}

const char *mp_cmd_optimize(cmd_parms *cmd, void *mconfig, const char *arg)
{
    mp_srv_cfg *sc = mp_srv_config(cmd->server);

    (void)mconfig;
    if (arg != NULL && strcasecmp(arg, "On") == 0) {
        sc->optimize = 1;
    }
    else if (arg != NULL && strcasecmp(arg, "Off") == 0) {
        sc->optimize = 0;
    }
    else {
        return apr_psprintf(cmd->pool, "PythonOptimize must be On or Off, not '%s'",
                            arg ? arg : "");
    }
    return NULL;
}

/* 3.5 treated "PythonOptimize On" as a process-wide switch wherever it was
 * written (server or vhost; Off did nothing), so: On in the main server or
 * in any virtual host. */
int mp_config_optimize(server_rec *s)
{
    if (s != NULL && s->is_virtual && ap_server_conf != NULL) {
        s = ap_server_conf;
    }
    for (; s != NULL; s = s->next) {
        const mp_srv_cfg *sc = mp_srv_config(s);

        if (sc != NULL && sc->optimize == 1) {
            return 1;
        }
    }
    return 0;
}
