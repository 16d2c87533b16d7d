/*
 * fuzz_stubs.c - the few httpd and mod_python symbols the fuzz targets'
 * C files reference, for linking them without httpd (libFuzzer, clang).
 *
 * These are small stand-ins written for the fuzzers, not httpd's code:
 * ap_getword_conf splits like httpd does (quotes, backslash before a
 * quote), regular expressions go to POSIX regcomp, logging and filter
 * registration do nothing.  Python: fuzz_python_init() starts one main
 * interpreter for the targets that need the C-API.
 *
 * Licensed under the Apache License, Version 2.0 (see LICENSE).
 */
#include "mp_common.h"
#include "mp_interp.h"

#include "apr_lib.h"
#include <regex.h>
#include "fuzz_common.h"

/* ------------------------------------------------------------- httpd */

module AP_MODULE_DECLARE_DATA python_module = {
    STANDARD20_MODULE_STUFF,
    NULL, NULL, NULL, NULL, NULL, NULL, 0
};
server_rec *ap_server_conf = NULL;

AP_DECLARE(char *) ap_getword_conf(apr_pool_t *p, const char **line)
{
    const char *s = *line, *start;
    char *w, *d;
    char quote = 0;

    while (*s && apr_isspace(*s))
        s++;
    if (*s == '"' || *s == '\'')
        quote = *s++;
    start = s;
    while (*s && (quote ? *s != quote : !apr_isspace(*s))) {
        if (quote && *s == '\\' && s[1] == quote)
            s++;
        s++;
    }
    w = d = apr_palloc(p, (apr_size_t)(s - start) + 1);
    for (; start < s; start++) {
        if (quote && *start == '\\' && start[1] == quote)
            start++;
        *d++ = *start;
    }
    *d = '\0';
    if (quote && *s)
        s++;
    while (*s && apr_isspace(*s))
        s++;
    *line = s;
    return w;
}

static apr_status_t regex_cleanup(void *r)
{
    regfree(r);
    return APR_SUCCESS;
}

/* glibc's regcomp/regexec take exponential time and memory on stacked
 * quantifiers ("a++++") and back-references, which httpd (PCRE2) does
 * not: such patterns are refused here (our code's error path), so the
 * fuzzer's time goes to our code. */
static int regex_too_hard(const char *s)
{
    size_t n = strlen(s), i;

    if (n > 64)
        return 1;
    for (i = 0; i + 1 < n; i++) {
        if (strchr("*+?{}", s[i]) && strchr("*+?{}", s[i + 1]))
            return 1;
        if (s[i] == '\\' && apr_isdigit(s[i + 1]))
            return 1;
    }
    return 0;
}

AP_DECLARE(ap_regex_t *) ap_pregcomp(apr_pool_t *p, const char *pattern, int cflags)
{
    ap_regex_t *preg = apr_pcalloc(p, sizeof(*preg));
    regex_t *re = apr_pcalloc(p, sizeof(*re));

    if (regex_too_hard(pattern))
        return NULL;
    if (regcomp(re, pattern, REG_EXTENDED | REG_NOSUB
                | ((cflags & AP_REG_ICASE) ? REG_ICASE : 0)) != 0)
        return NULL;
    apr_pool_cleanup_register(p, re, regex_cleanup, apr_pool_cleanup_null);
    preg->re_pcre = re;
    return preg;
}

AP_DECLARE(int) ap_regexec(const ap_regex_t *preg, const char *string, apr_size_t nmatch,
                           ap_regmatch_t *pmatch, int eflags)
{
    (void)nmatch; (void)pmatch; (void)eflags;
    return regexec(preg->re_pcre, string, 0, NULL, 0) == 0 ? 0 : AP_REG_NOMATCH;
}

AP_DECLARE(void) ap_log_error_(const char *file, int line, int module_index, int level,
                               apr_status_t status, const server_rec *s,
                               const char *fmt, ...)
{
    (void)file; (void)line; (void)module_index; (void)level; (void)status; (void)s;
    (void)fmt;
}

AP_DECLARE(void) ap_log_rerror_(const char *file, int line, int module_index, int level,
                                apr_status_t status, const request_rec *r,
                                const char *fmt, ...)
{
    (void)file; (void)line; (void)module_index; (void)level; (void)status; (void)r;
    (void)fmt;
}

AP_DECLARE(void) ap_log_cerror_(const char *file, int line, int module_index, int level,
                                apr_status_t status, const conn_rec *c,
                                const char *fmt, ...)
{
    (void)file; (void)line; (void)module_index; (void)level; (void)status; (void)c;
    (void)fmt;
}

AP_DECLARE(ap_filter_rec_t *) ap_register_input_filter(const char *name,
                                                       ap_in_filter_func filter_func,
                                                       ap_init_filter_func filter_init,
                                                       ap_filter_type ftype)
{
    (void)name; (void)filter_func; (void)filter_init; (void)ftype;
    return NULL;
}

AP_DECLARE(ap_filter_rec_t *) ap_register_output_filter(const char *name,
                                                        ap_out_filter_func filter_func,
                                                        ap_init_filter_func filter_init,
                                                        ap_filter_type ftype)
{
    (void)name; (void)filter_func; (void)filter_init; (void)ftype;
    return NULL;
}

AP_DECLARE(void) ap_str_tolower(char *s)
{
    for (; *s; s++)
        *s = (char)apr_tolower(*s);
}

/* ------------------------------------------------------------ Python */

PyThreadState *mp_interp_release(void)
{
    return PyEval_SaveThread();
}

void mp_interp_reacquire(PyThreadState *ts)
{
    PyEval_RestoreThread(ts);
}

apr_pool_t *fuzz_pool(void)
{
    static apr_pool_t *root;

    if (root == NULL) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    return root;
}

void fuzz_python_init(void)
{
    if (Py_IsInitialized())
        return;
    Py_InitializeEx(0);
    if (!Py_IsInitialized())
        abort();
}

PyObject *fuzz_python_func(const char *src, const char *name)
{
    PyObject *ns = PyDict_New(), *f;

    if (ns == NULL || PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0)
        abort();
    f = PyRun_String(src, Py_file_input, ns, ns);
    if (f == NULL) {
        PyErr_Print();
        abort();
    }
    Py_DECREF(f);
    f = PyDict_GetItemString(ns, name);
    if (f == NULL)
        abort();
    Py_INCREF(f);
    Py_DECREF(ns);
    return f;
}

void fuzz_python_call(PyObject *func, PyObject *args)
{
    PyObject *r;

    if (args == NULL)
        abort();
    r = PyObject_CallObject(func, args);
    Py_DECREF(args);
    if (r == NULL) {
        PyErr_Print();            /* the oracle failed: show why */
        abort();
    }
    Py_DECREF(r);
}

void fuzz_python_check(PyObject *result)
{
    /* A NULL result must come with an exception set, and none may stay
     * set after a success. */
    if (result == NULL) {
        if (!PyErr_Occurred()) {
            fprintf(stderr, "fuzz: NULL result without an exception\n");
            abort();
        }
        PyErr_Clear();
    }
    else {
        if (PyErr_Occurred()) {
            fprintf(stderr, "fuzz: a result and an exception set:\n");
            PyErr_Print();
            abort();
        }
        Py_DECREF(result);
    }
}
