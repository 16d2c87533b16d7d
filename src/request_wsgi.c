/*
 * request_wsgi.c - PEP 3333 support of the request object (mod_python.wsgi):
 * req.build_wsgi_env(), req.wsgi_start_response() and the two stream types
 * placed in the environ, wsgi.input (the request body) and wsgi.errors
 * (lines written to it go to the error log of the request).
 *
 * Differences from mod_python 3.5 (all bugs there):
 *  - environ values are native strings decoded as Latin-1 (PEP 3333), not
 *    UTF-8; entries without a value (SCRIPT_FILENAME of a request that maps
 *    to no file) are left out instead of being None; wsgi.run_once exists;
 *  - start_response sets req.status as well as req.status_line, copies
 *    Content-Type into req.content_type, validates header names and values,
 *    and follows PEP 3333 for exc_info: with headers already sent the
 *    exception is re-raised, otherwise the headers of the earlier call are
 *    replaced.  A second call without exc_info is an error.
 */
#include "mp_common.h"
#include "mp_request.h"
#include "mp_config.h"
#include "mp_hlist.h"
#include "mp_table.h"
#include "mp_log.h"

#include "apr_fnmatch.h"
#include "apr_lib.h"

#define MP_WSGI_BASE_OPTION "mod_python.wsgi.base_uri"
#define MP_WSGI_STATE_KEY "mod_python.wsgi.start_response"

/* ------------------------------------------------------------ helpers */

/* C string -> native string (PEP 3333: str holding Latin-1 code points). */
static PyObject *native(const char *s)
{
    return PyUnicode_DecodeLatin1(s, (Py_ssize_t)strlen(s), NULL);
}

/* Store native(key) -> native(val) unless key is already there. */
static int env_put(PyObject *env, const char *key, const char *val)
{
    PyObject *k, *v;
    int rc = -1;

    if (key == NULL || val == NULL)
        return 0;                   /* e.g. SCRIPT_FILENAME without a file */
    k = native(key);
    v = k ? native(val) : NULL;
    if (v != NULL)
        rc = PyDict_SetDefault(env, k, v) ? 0 : -1;
    Py_XDECREF(k);
    Py_XDECREF(v);
    return rc;
}

static int env_put_obj(PyObject *env, const char *key, PyObject *val)
{
    int rc;

    if (val == NULL)
        return -1;
    rc = PyDict_SetItemString(env, key, val);
    Py_DECREF(val);
    return rc;
}

/* 1 when the MPM answers `what` with anything but "not supported". */
static int mpm_flag(int what)
{
    int v = AP_MPMQ_NOT_SUPPORTED;

    if (ap_mpm_query(what, &v) != APR_SUCCESS)
        return 0;
    return v != AP_MPMQ_NOT_SUPPORTED;
}

/* ----------------------------------------------------- wsgi.input */

typedef struct {
    PyObject_HEAD
    PyObject *req;
} mp_wsgi_input;

/* Optional size argument: absent, None or negative -> -1. */
static int size_arg(PyObject *args, const char *fmt, Py_ssize_t *n)
{
    PyObject *o = Py_None;

    *n = -1;
    if (!PyArg_ParseTuple(args, fmt, &o))
        return -1;
    if (o == Py_None)
        return 0;
    *n = PyNumber_AsSsize_t(o, PyExc_OverflowError);
    if (*n == -1 && PyErr_Occurred())
        return -1;
    if (*n < 0)
        *n = -1;
    return 0;
}

static PyObject *input_call(PyObject *o, PyObject *args, const char *fmt,
                            const char *method)
{
    Py_ssize_t n;

    if (size_arg(args, fmt, &n) < 0)
        return NULL;
    return PyObject_CallMethod(((mp_wsgi_input *)o)->req, method, "n", n);
}

static PyObject *input_read(PyObject *o, PyObject *args)
{
    return input_call(o, args, "|O:read", "read");
}

static PyObject *input_readline(PyObject *o, PyObject *args)
{
    return input_call(o, args, "|O:readline", "readline");
}

static PyObject *input_readlines(PyObject *o, PyObject *args)
{
    return input_call(o, args, "|O:readlines", "readlines");
}

static PyObject *input_next(PyObject *o)
{
    PyObject *line = PyObject_CallMethod(((mp_wsgi_input *)o)->req, "readline", NULL);

    if (line != NULL && PyBytes_Check(line) && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return NULL;                /* StopIteration */
    }
    return line;
}

static int input_traverse(PyObject *o, visitproc visit, void *arg)
{
    Py_VISIT(((mp_wsgi_input *)o)->req);
    return 0;
}

static int input_clear(PyObject *o)
{
    Py_CLEAR(((mp_wsgi_input *)o)->req);
    return 0;
}

static void input_dealloc(PyObject *o)
{
    PyObject_GC_UnTrack(o);
    input_clear(o);
    PyObject_GC_Del(o);
}

static PyMethodDef input_methods[] = {
    {"read", input_read, METH_VARARGS, "read([size]) -> bytes of the request body"},
    {"readline", input_readline, METH_VARARGS, "readline([size]) -> one line"},
    {"readlines", input_readlines, METH_VARARGS, "readlines([hint]) -> list of lines"},
    {NULL, NULL, 0, NULL}
};

static PyTypeObject MpWsgiInput_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mod_python.wsgi_input",
    .tp_basicsize = sizeof(mp_wsgi_input),
    .tp_dealloc = input_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "wsgi.input: the request body",
    .tp_traverse = input_traverse,
    .tp_clear = input_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = input_next,
    .tp_methods = input_methods,
};

/* ---------------------------------------------------- wsgi.errors */

typedef struct {
    PyObject_HEAD
    PyObject *req;
    server_rec *s;                  /* lives as long as the process */
    PyObject *pending;              /* str: an unterminated last line, or NULL */
} mp_wsgi_errors;

/* Log one line (str) to the request's error log, or the server's once the
 * request is gone.  `release` releases the GIL around the write. */
static int errors_log_line(mp_wsgi_errors *self, PyObject *line, int release)
{
    mp_request *req = (mp_request *)self->req;
    request_rec *r = (req != NULL && !req->dead) ? req->r : NULL;
    PyObject *b;
    const char *txt;

    if (PyUnicode_GET_LENGTH(line) == 0)
        return 0;
    b = PyUnicode_AsEncodedString(line, "utf-8", "backslashreplace");
    if (b == NULL)
        return -1;
    txt = PyBytes_AS_STRING(b);
    if (release) {
        MP_BEGIN_BLOCKING
        if (r != NULL)
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0521) "%s", txt);
        else
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, self->s, MP_APLOGNO(0521) "%s", txt);
        MP_END_BLOCKING
    }
    else if (r != NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0521) "%s", txt);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, self->s, MP_APLOGNO(0521) "%s", txt);
    }
    Py_DECREF(b);
    return 0;
}

/* Append text to the pending line; log every completed line. */
static int errors_add(mp_wsgi_errors *self, PyObject *text)
{
    PyObject *all, *lines;
    Py_ssize_t i, n, found;
    int rc = 0;

    if (self->pending != NULL)
        all = PyUnicode_Concat(self->pending, text);
    else
        all = Py_NewRef(text);
    if (all == NULL)
        return -1;
    Py_CLEAR(self->pending);
    found = PyUnicode_FindChar(all, '\n', 0, PyUnicode_GET_LENGTH(all), 1);
    if (found == -2) {
        Py_DECREF(all);
        return -1;
    }
    if (found == -1) {              /* no line completed yet */
        self->pending = all;
        return 0;
    }
    lines = PyUnicode_Splitlines(all, 1);       /* keep the line ends */
    Py_DECREF(all);
    if (lines == NULL)
        return -1;
    n = PyList_GET_SIZE(lines);
    for (i = 0; i < n && rc == 0; i++) {
        PyObject *line = PyList_GET_ITEM(lines, i), *body;
        Py_ssize_t len = PyUnicode_GET_LENGTH(line), end = len;

        while (end > 0 && Py_UNICODE_ISLINEBREAK(PyUnicode_READ_CHAR(line, end - 1)))
            end--;
        if (end == len) {           /* the unterminated last line */
            self->pending = Py_NewRef(line);
            break;
        }
        body = PyUnicode_Substring(line, 0, end);
        rc = body ? errors_log_line(self, body, 1) : -1;
        Py_XDECREF(body);
    }
    Py_DECREF(lines);
    return rc;
}

static PyObject *errors_write(PyObject *o, PyObject *arg)
{
    PyObject *text;
    int rc;

    if (PyUnicode_Check(arg))
        text = Py_NewRef(arg);
    else if (PyBytes_Check(arg))
        text = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg), "replace");
    else {
        PyErr_Format(PyExc_TypeError, "write() argument must be str, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    if (text == NULL)
        return NULL;
    rc = errors_add((mp_wsgi_errors *)o, text);
    Py_DECREF(text);
    return rc < 0 ? NULL : PyLong_FromSsize_t(PyUnicode_Check(arg) ?
                                              PyUnicode_GET_LENGTH(arg) :
                                              PyBytes_GET_SIZE(arg));
}

static PyObject *errors_writelines(PyObject *o, PyObject *seq)
{
    PyObject *it = PyObject_GetIter(seq), *item;

    if (it == NULL)
        return NULL;
    while ((item = PyIter_Next(it)) != NULL) {
        PyObject *res = errors_write(o, item);
        Py_DECREF(item);
        if (res == NULL) {
            Py_DECREF(it);
            return NULL;
        }
        Py_DECREF(res);
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *errors_flush(PyObject *o, PyObject *unused)
{
    mp_wsgi_errors *self = (mp_wsgi_errors *)o;
    PyObject *line = self->pending;
    int rc = 0;

    (void)unused;
    if (line != NULL) {
        self->pending = NULL;
        rc = errors_log_line(self, line, 1);
        Py_DECREF(line);
    }
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static int errors_traverse(PyObject *o, visitproc visit, void *arg)
{
    Py_VISIT(((mp_wsgi_errors *)o)->req);
    return 0;
}

static int errors_clear(PyObject *o)
{
    Py_CLEAR(((mp_wsgi_errors *)o)->req);
    return 0;
}

static void errors_dealloc(PyObject *o)
{
    mp_wsgi_errors *self = (mp_wsgi_errors *)o;

    PyObject_GC_UnTrack(o);
    if (self->pending != NULL) {        /* an unterminated last line */
        PyObject *exc = mp_exc_fetch();

        if (errors_log_line(self, self->pending, 0) < 0)
            PyErr_Clear();
        mp_exc_restore(exc);
        Py_CLEAR(self->pending);
    }
    errors_clear(o);
    PyObject_GC_Del(o);
}

static PyMethodDef errors_methods[] = {
    {"write", errors_write, METH_O, "write(str): log each complete line"},
    {"writelines", errors_writelines, METH_O, "writelines(iterable of str)"},
    {"flush", errors_flush, METH_NOARGS, "log an unterminated last line"},
    {NULL, NULL, 0, NULL}
};

static PyTypeObject MpWsgiErrors_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mod_python.wsgi_errors",
    .tp_basicsize = sizeof(mp_wsgi_errors),
    .tp_dealloc = errors_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "wsgi.errors: a text stream writing lines to the error log",
    .tp_traverse = errors_traverse,
    .tp_clear = errors_clear,
    .tp_methods = errors_methods,
};

static int wsgi_types_ready(void)
{
    static int ready;               /* the GIL is shared by all interpreters */

    if (ready)
        return 0;
    if (PyType_Ready(&MpWsgiInput_Type) < 0 || PyType_Ready(&MpWsgiErrors_Type) < 0)
        return -1;
    ready = 1;
    return 0;
}

static PyObject *new_input(mp_request *req)
{
    mp_wsgi_input *o;

    if (wsgi_types_ready() < 0)
        return NULL;
    o = PyObject_GC_New(mp_wsgi_input, &MpWsgiInput_Type);
    if (o == NULL)
        return NULL;
    o->req = Py_NewRef((PyObject *)req);
    PyObject_GC_Track((PyObject *)o);
    return (PyObject *)o;
}

static PyObject *new_errors(mp_request *req)
{
    mp_wsgi_errors *o;

    if (wsgi_types_ready() < 0)
        return NULL;
    o = PyObject_GC_New(mp_wsgi_errors, &MpWsgiErrors_Type);
    if (o == NULL)
        return NULL;
    o->req = Py_NewRef((PyObject *)req);
    o->s = req->r->server;
    o->pending = NULL;
    PyObject_GC_Track((PyObject *)o);
    return (PyObject *)o;
}

/* ------------------------------------------------------- base URI */

/* 1 when the <Location> argument dir is a pattern, not a path prefix. */
static int location_is_pattern(mp_request *self, const char *dir)
{
    /* the entry at the cursor (the hlist is made only when Python asked) */
    const mp_handler *h = self->hlist ? mp_hlist_current(self->hlist) : self->list;

    if (dir[0] != '/' || apr_fnmatch_test(dir))
        return 1;
    return h != NULL && h->is_location && h->regex != NULL &&
           h->directory != NULL && strcmp(h->directory, dir) == 0;
}

/* The WSGI base URI (SCRIPT_NAME) of the request: the PythonOption, else
 * the <Location> the handler was configured in, else "".  NULL with
 * ValueError for an option ending in '/'. */
static const char *wsgi_base_uri(mp_request *self, request_rec *r)
{
    const mp_dir_cfg *dc = mp_dir_config(r->per_dir_config);
    PyObject *opts = PyObject_CallMethod((PyObject *)self, "get_options", NULL);
    const char *base = NULL;
    apr_size_t n;

    if (opts == NULL)
        return NULL;
    if (mp_table_check(opts))
        base = apr_table_get(((mp_table *)opts)->table, MP_WSGI_BASE_OPTION);
    Py_DECREF(opts);
    if (base != NULL && *base != '\0') {
        if (base[strlen(base) - 1] == '/') {
            PyErr_Format(PyExc_ValueError,
                         "PythonOption '" MP_WSGI_BASE_OPTION "' ('%s') must not end with '/'",
                         base);
            return NULL;
        }
        return base;
    }
    if (dc == NULL || !dc->d_is_location || dc->config_dir == NULL ||
        location_is_pattern(self, dc->config_dir))
        return "";
    n = strlen(dc->config_dir);
    if (n > 0 && dc->config_dir[n - 1] == '/')
        n--;
    return apr_pstrmemdup(r->pool, dc->config_dir, n);
}

/* ------------------------------------------------- build_wsgi_env() */

static int env_add_wsgi(PyObject *env, mp_request *self, request_rec *r)
{
    static int threaded = -1, forked = -1;
    const char *https = apr_table_get(r->subprocess_env, "HTTPS");
    const char *scheme;

    if (threaded < 0) {
        threaded = mpm_flag(AP_MPMQ_IS_THREADED);
        forked = mpm_flag(AP_MPMQ_IS_FORKED);
    }
    if (https != NULL && *https != '\0')
        scheme = strcasecmp(https, "off") == 0 ? "http" : "https";
    else
        scheme = ap_http_scheme(r);
    if (scheme == NULL || strcasecmp(scheme, "https") != 0)
        scheme = "http";
    if (env_put_obj(env, "wsgi.input", new_input(self)) < 0 ||
        env_put_obj(env, "wsgi.errors", new_errors(self)) < 0 ||
        env_put_obj(env, "wsgi.version", Py_BuildValue("(ii)", 1, 0)) < 0 ||
        env_put_obj(env, "wsgi.multithread", PyBool_FromLong(threaded)) < 0 ||
        env_put_obj(env, "wsgi.multiprocess", PyBool_FromLong(forked)) < 0 ||
        env_put_obj(env, "wsgi.run_once", PyBool_FromLong(0)) < 0 ||
        env_put_obj(env, "wsgi.url_scheme", PyUnicode_FromString(scheme)) < 0)
        return -1;
    return 0;
}

PyObject *mp_request_build_wsgi_env(PyObject *o, PyObject *unused)
{
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    const char *base, *uri, *auth;
    PyObject *env, *res;
    apr_size_t blen;
    int i;

    (void)unused;
    if (r == NULL || (base = wsgi_base_uri(self, r)) == NULL)
        return NULL;
    uri = r->uri ? r->uri : "";
    blen = strlen(base);
    if (blen > 0 && strncmp(uri, base, blen) != 0)
        Py_RETURN_NONE;
    r->path_info = apr_pstrdup(r->pool, uri + blen);
    res = PyObject_CallMethod(o, "add_cgi_vars", NULL);
    if (res == NULL)
        return NULL;
    Py_DECREF(res);
    if ((r = mp_request_rec(self)) == NULL || (env = PyDict_New()) == NULL)
        return NULL;
    /* add_cgi_vars() extends SCRIPT_NAME to the end of a path segment; the
     * WSGI base is a plain prefix (base "/a/b", URI "/a/bc": PATH_INFO "c"). */
    apr_table_set(r->subprocess_env, "SCRIPT_NAME", base);
    arr = apr_table_elts(r->subprocess_env);
    e = (const apr_table_entry_t *)arr->elts;
    for (i = 0; i < arr->nelts; i++) {
        if (env_put(env, e[i].key, e[i].val) < 0)
            goto fail;
    }
    auth = apr_table_get(r->headers_in, "Authorization");
    if (env_put(env, "HTTP_AUTHORIZATION", auth) < 0 || env_add_wsgi(env, self, r) < 0)
        goto fail;
    return env;
fail:
    Py_DECREF(env);
    return NULL;
}

/* ------------------------------------------- wsgi_start_response() */

/* What the first start_response() call of a request found, so that a
 * later call with exc_info can replace its headers (kept in r->pool). */
typedef struct {
    int called;
    apr_table_t *headers_out;
    const char *content_type;
    int content_type_set;
} mp_wsgi_state;

static mp_wsgi_state *wsgi_state(request_rec *r)
{
    void *st = NULL;

    apr_pool_userdata_get(&st, MP_WSGI_STATE_KEY, r->pool);
    if (st == NULL) {
        st = apr_pcalloc(r->pool, sizeof(mp_wsgi_state));
        apr_pool_userdata_setn(st, MP_WSGI_STATE_KEY, apr_pool_cleanup_null, r->pool);
    }
    return st;
}

/* Raise the exception described by an exc_info tuple. Returns NULL. */
static PyObject *reraise(PyObject *exc_info)
{
    PyObject *v, *tb;

    if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3 ||
        !PyExceptionInstance_Check(PyTuple_GET_ITEM(exc_info, 1))) {
        PyErr_SetString(PyExc_TypeError,
                        "exc_info must be None or a (type, value, traceback) tuple");
        return NULL;
    }
    v = PyTuple_GET_ITEM(exc_info, 1);
    tb = PyTuple_GET_ITEM(exc_info, 2);
    Py_INCREF(Py_TYPE(v));
    Py_INCREF(v);
    if (PyTraceBack_Check(tb))
        Py_INCREF(tb);
    else
        tb = NULL;
    PyErr_Restore((PyObject *)Py_TYPE(v), v, tb);
    return NULL;
}

/* A header name or value as a Latin-1 C string, checked for characters
 * that must not appear there.  NULL with an exception on error. */
static const char *header_part(apr_pool_t *p, PyObject *o, int is_name)
{
    PyObject *b;
    const unsigned char *s;
    const char *res;
    Py_ssize_t i, n;

    if (PyUnicode_Check(o)) {
        b = PyUnicode_AsLatin1String(o);
        if (b == NULL) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "header %s %R is not an ISO-8859-1 string",
                         is_name ? "name" : "value", o);
            return NULL;
        }
    }
    else if (PyBytes_Check(o)) {
        b = Py_NewRef(o);
    }
    else {
        PyErr_Format(PyExc_TypeError, "header %s must be strings, not %.100s",
                     is_name ? "names" : "values", Py_TYPE(o)->tp_name);
        return NULL;
    }
    s = (const unsigned char *)PyBytes_AS_STRING(b);
    n = PyBytes_GET_SIZE(b);
    for (i = 0; i < n; i++) {
        int bad = is_name ? !(apr_isalnum(s[i]) || strchr("!#$%&'*+-.^_`|~", s[i]) != NULL)
                          : ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f);
        if (bad || s[i] == '\0')
            break;
    }
    if (i < n || (is_name && n == 0)) {
        PyErr_Format(PyExc_ValueError, is_name ? "invalid header name %R"
                                               : "invalid character in header value %R", o);
        Py_DECREF(b);
        return NULL;
    }
    res = apr_pstrmemdup(p, (const char *)s, (apr_size_t)n);
    Py_DECREF(b);
    return res;
}

/* Check the headers list; the (name, value) pairs go to *out. */
static int check_headers(apr_pool_t *p, PyObject *headers, apr_array_header_t **out)
{
    Py_ssize_t i, n;

    if (!PyList_Check(headers)) {
        PyErr_Format(PyExc_TypeError, "headers must be a list, not %.100s",
                     Py_TYPE(headers)->tp_name);
        return -1;
    }
    n = PyList_GET_SIZE(headers);
    *out = apr_array_make(p, (int)(n > 0 ? 2 * n : 1), sizeof(const char *));
    for (i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(headers, i);
        const char *name, *val;

        if (!PyTuple_CheckExact(item)) {
            PyErr_Format(PyExc_TypeError, "each header must be a tuple, not %.100s",
                         Py_TYPE(item)->tp_name);
            return -1;
        }
        if (PyTuple_GET_SIZE(item) != 2) {
            PyErr_Format(PyExc_TypeError,
                         "each header must be a (name, value) tuple, not %R", item);
            return -1;
        }
        name = header_part(p, PyTuple_GET_ITEM(item, 0), 1);
        val = name ? header_part(p, PyTuple_GET_ITEM(item, 1), 0) : NULL;
        if (val == NULL)
            return -1;
        APR_ARRAY_PUSH(*out, const char *) = name;
        APR_ARRAY_PUSH(*out, const char *) = val;
    }
    return 0;
}

/* "NNN reason" with NNN in 100..599 -> NNN; -1 with ValueError otherwise. */
static int check_status(apr_pool_t *p, PyObject *status, const char **line)
{
    const unsigned char *s;
    int code;

    *line = mp_latin1_from_py(p, status, "status");
    if (*line == NULL)
        return -1;
    s = (const unsigned char *)*line;
    code = (apr_isdigit(s[0]) && apr_isdigit(s[1]) && apr_isdigit(s[2]))
        ? (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0') : 0;
    if (code >= 100 && code <= 599 && (s[3] == '\0' || s[3] == ' ')) {
        for (s += 3; *s != '\0' && (*s >= 0x20 || *s == '\t') && *s != 0x7f; s++)
            ;
        if (*s == '\0')
            return code;
    }
    PyErr_Format(PyExc_ValueError, "Invalid status line: %R", status);
    return -1;
}

static int restore_headers(void *rec, const char *key, const char *val)
{
    apr_table_add(rec, key, val);
    return 1;
}

/* Put r's headers and content type back as the first call found them. */
static void replace_previous(mp_request *self, request_rec *r, const mp_wsgi_state *st)
{
    apr_table_clear(r->headers_out);
    apr_table_do(restore_headers, r->headers_out, st->headers_out, NULL);
    r->content_type = st->content_type;
    self->content_type_set = st->content_type_set;
}

PyObject *mp_request_wsgi_start_response(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"status", "headers", "exc_info", NULL};
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    PyObject *status, *headers, *exc_info = Py_None;
    apr_array_header_t *hdrs;
    const char *line;
    mp_wsgi_state *st;
    int code, i;

    if (r == NULL ||
        !PyArg_ParseTupleAndKeywords(args, kw, "OO|O:wsgi_start_response", kwlist,
                                     &status, &headers, &exc_info))
        return NULL;
    st = wsgi_state(r);
    if (PyTuple_Check(exc_info) && PyTuple_GET_SIZE(exc_info) == 3 &&
        PyTuple_GET_ITEM(exc_info, 1) == Py_None)
        exc_info = Py_None;             /* sys.exc_info() with no exception */
    if (exc_info != Py_None) {
        if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3)
            return reraise(exc_info);   /* TypeError */
        if (r->sent_bodyct || r->bytes_sent > 0 || self->bytes_queued > 0)
            return reraise(exc_info);   /* too late to change the response */
    }
    else if (st->called) {
        PyErr_SetString(PyExc_RuntimeError,
                        "start_response() called a second time without exc_info");
        return NULL;
    }
    if ((code = check_status(r->pool, status, &line)) < 0 ||
        check_headers(r->pool, headers, &hdrs) < 0)
        return NULL;
    if (st->called) {
        replace_previous(self, r, st);
    }
    else {
        st->headers_out = apr_table_copy(r->pool, r->headers_out);
        st->content_type = r->content_type;
        st->content_type_set = self->content_type_set;
        st->called = 1;
    }
    r->status_line = line;
    r->status = code;
    for (i = 0; i + 1 < hdrs->nelts; i += 2) {
        const char *name = APR_ARRAY_IDX(hdrs, i, const char *);
        const char *val = APR_ARRAY_IDX(hdrs, i + 1, const char *);

        apr_table_add(r->headers_out, name, val);
        if (strcasecmp(name, "Content-Type") == 0) {
            ap_set_content_type(r, val);
            self->content_type_set = 1;
        }
    }
    return PyObject_GetAttrString(o, "write");
}
