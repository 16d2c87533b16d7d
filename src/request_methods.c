/*
 * request_methods.c - the mp_request methods other than body I/O
 * (mod_python 3.5 manual: "Request Methods"): CGI variables, handlers and filters
 * added at run time, configuration views, authentication helpers, redirects,
 * logging, cleanups and the small httpd wrappers.
 */
#include "mp_common.h"
#include "mp_request.h"
#include "mp_reqstate.h"
#include "mp_config.h"
#include "mp_hlist.h"
#include "mp_filterobj.h"       /* mp_filter_ctx, MP_FILTER_NAME */
#include "mp_table.h"
#include "mp_log.h"

#include "util_script.h"
#include "apr_optional.h"

#if AP_MODULE_MAGIC_AT_LEAST(20120211, 104)
#include "http_ssl.h"
#define MP_HAVE_HTTP_SSL 1
#else
#include "mod_ssl.h"
#endif

#define METH_ARGS(f) (PyCFunction)(void (*)(void))(f), METH_VARARGS | METH_KEYWORDS

/* ------------------------------------------------------ CGI variables */

static PyObject *req_add_common_vars(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);

    (void)unused;
    if (r == NULL)
        return NULL;
    MP_BEGIN_BLOCKING           /* may resolve the client's name */
    ap_add_common_vars(r);
    MP_END_BLOCKING
    Py_RETURN_NONE;
}

static PyObject *req_add_cgi_vars(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    apr_table_t *e;

    if (r == NULL)
        return NULL;
    e = r->subprocess_env;
    apr_table_setn(e, "GATEWAY_INTERFACE", "CGI/1.1");
    apr_table_set(e, "SERVER_PROTOCOL", r->protocol ? r->protocol : "");
    apr_table_set(e, "REQUEST_METHOD", r->method ? r->method : "");
    apr_table_set(e, "QUERY_STRING", r->args ? r->args : "");
    apr_table_set(e, "REQUEST_URI", r->uri ? r->uri : "");
    if (r->uri == NULL || r->path_info == NULL || *r->path_info == '\0') {
        apr_table_set(e, "SCRIPT_NAME", r->uri ? r->uri : "");
    }
    else {
        int n = ap_find_path_info(r->uri, r->path_info);
        apr_table_setn(e, "SCRIPT_NAME", apr_pstrndup(r->pool, r->uri, (apr_size_t)n));
        apr_table_set(e, "PATH_INFO", r->path_info);
    }
    return req_add_common_vars(o, unused);
}

/* --------------------------------------------- handlers and filters */

static mp_handler *new_handler(request_rec *r, const char *handler, const char *dir)
{
    mp_handler *h = apr_pcalloc(r->pool, sizeof(*h));

    h->handler = apr_pstrdup(r->pool, handler);
    h->directory = dir ? mp_canonical_dir(r->pool, dir) : NULL;
    return h;
}

static PyObject *req_add_handler(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"phase", "handler", "dir", NULL};
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    const char *phase, *handler, *dir = NULL;
    mp_handler *h, **tail;
    mp_reqstate *rs;
    int idx;

    if (r == NULL ||
        !PyArg_ParseTupleAndKeywords(args, kw, "ss|z:add_handler", kwlist,
                                     &phase, &handler, &dir))
        return NULL;
    idx = mp_phase_lookup(phase);
    if (idx < 0 || idx == MP_PHASE_CLEANUP || idx == MP_PHASE_CONNECTION) {
        PyErr_Format(PyExc_IndexError, "Invalid phase: %s", phase);
        return NULL;
    }
    h = new_handler(r, handler, dir);
    /* The phase running now: extend the list being iterated. */
    if (self->phase_idx == idx && self->list != NULL) {
        PyObject *hl = mp_request_hlist(o);
        if (hl == NULL)
            return NULL;
        mp_hlist_append(hl, h);
        Py_RETURN_NONE;
    }
    /* Another phase (or no phase: a filter): the request's dynamic list. */
    rs = mp_reqstate_get(r, 1);
    for (tail = &rs->dyn[idx]; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = h;
    Py_RETURN_NONE;
}

static PyObject *register_filter(PyObject *o, PyObject *args, PyObject *kw, int is_input)
{
    static char *kwlist[] = {"name", "handler", "dir", NULL};
    request_rec *r = mp_request_rec((mp_request *)o);
    const char *name, *handler, *dir = NULL;
    mp_reqstate *rs;
    apr_hash_t **hash;

    if (r == NULL ||
        !PyArg_ParseTupleAndKeywords(args, kw,
                                     is_input ? "ss|z:register_input_filter"
                                              : "ss|z:register_output_filter",
                                     kwlist, &name, &handler, &dir))
        return NULL;
    rs = mp_reqstate_get(r, 1);
    hash = is_input ? &rs->in_filters : &rs->out_filters;
    if (*hash == NULL)
        *hash = apr_hash_make(r->pool);
    apr_hash_set(*hash, apr_pstrdup(r->pool, name), APR_HASH_KEY_STRING,
                 new_handler(r, handler, dir));
    Py_RETURN_NONE;
}

static PyObject *req_register_input_filter(PyObject *o, PyObject *args, PyObject *kw)
{
    return register_filter(o, args, kw, 1);
}

static PyObject *req_register_output_filter(PyObject *o, PyObject *args, PyObject *kw)
{
    return register_filter(o, args, kw, 0);
}

static PyObject *add_filter(PyObject *o, PyObject *args, int is_input)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    const char *name;
    mp_reqstate *rs;
    apr_hash_t *hash;

    if (r == NULL ||
        !PyArg_ParseTuple(args, is_input ? "s:add_input_filter" : "s:add_output_filter", &name))
        return NULL;
    rs = mp_reqstate_get(r, 0);
    hash = rs ? (is_input ? rs->in_filters : rs->out_filters) : NULL;
    if (hash != NULL && apr_hash_get(hash, name, APR_HASH_KEY_STRING) != NULL) {
        /* Registered for this request: the generic filter carries the name. */
        mp_filter_ctx *ctx = apr_pcalloc(r->pool, sizeof(*ctx));
        ctx->name = apr_pstrdup(r->pool, name);
        if (is_input)
            ap_add_input_filter(MP_FILTER_NAME, ctx, r, r->connection);
        else
            ap_add_output_filter(MP_FILTER_NAME, ctx, r, r->connection);
    }
    else if (is_input) {
        ap_add_input_filter(name, NULL, r, r->connection);
    }
    else {
        ap_add_output_filter(name, NULL, r, r->connection);
    }
    Py_RETURN_NONE;
}

static PyObject *req_add_input_filter(PyObject *o, PyObject *args)
{
    return add_filter(o, args, 1);
}

static PyObject *req_add_output_filter(PyObject *o, PyObject *args)
{
    return add_filter(o, args, 0);
}

/* ------------------------------------------------ configuration views */

/* req.get_config() and req.get_options() hand out a table of this request
 * (writes stay in it), made from the merged layers of the per-dir config
 * when first asked for and again only when the per-dir config changed. */
static PyObject *cached_view(mp_request *self, PyObject **cache, const void **cache_src,
                             const void *src, apr_table_t *t)
{
    PyObject *v = mp_table_wrap(t, (PyObject *)self);

    if (v == NULL)
        return NULL;
    Py_XSETREF(*cache, v);
    *cache_src = src;
    Py_INCREF(v);
    return v;
}

static PyObject *req_get_config(PyObject *o, PyObject *unused)
{
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    const mp_dir_cfg *dc;
    const mp_layer *src;

    (void)unused;
    if (r == NULL)
        return NULL;
    dc = mp_dir_config(r->per_dir_config);
    src = dc ? dc->directives : NULL;
    if (self->config != NULL && self->config_src == src) {
        Py_INCREF(self->config);
        return self->config;
    }
    return cached_view(self, &self->config, &self->config_src, src,
                       mp_layer_flatten(r->pool, src));
}

/* PythonOption with an empty value means "unset": such entries are hidden
 * (3.5 deleted them from the shared configuration). */
static PyObject *req_get_options(PyObject *o, PyObject *unused)
{
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    const mp_dir_cfg *dc;
    const mp_layer *layers;
    apr_table_t *src, *t;
    int i, hide = 0;

    (void)unused;
    if (r == NULL)
        return NULL;
    dc = mp_dir_config(r->per_dir_config);
    layers = dc ? dc->options : NULL;
    if (self->options != NULL && self->options_src == layers) {
        Py_INCREF(self->options);
        return self->options;
    }
    src = mp_layer_flatten(r->pool, layers);
    arr = apr_table_elts(src);
    e = (const apr_table_entry_t *)arr->elts;
    for (i = 0; i < arr->nelts && !hide; i++)
        hide = (e[i].key != NULL && (e[i].val == NULL || e[i].val[0] == '\0'));
    t = src;
    if (hide) {
        t = apr_table_make(r->pool, arr->nelts);
        for (i = 0; i < arr->nelts; i++)
            if (e[i].key != NULL && e[i].val != NULL && e[i].val[0] != '\0')
                apr_table_addn(t, e[i].key, e[i].val);
    }
    return cached_view(self, &self->options, &self->options_src, layers, t);
}

/* mod_mime's per-directory config, as laid out by httpd 2.x (private to
 * mod_mime; only the leading members we read are mirrored). */
typedef struct {
    apr_hash_t *extension_mappings;   /* extension -> mp_mime_ext_info */
} mp_mime_dir_config;

typedef struct {
    char *forced_type;
    char *encoding_type;
    char *language_type;
    char *handler;
} mp_mime_ext_info;

static PyObject *req_get_addhandler_exts(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    module *mime = ap_find_linked_module("mod_mime.c");
    const mp_mime_dir_config *mc;
    apr_hash_index_t *hi;
    char *res = "";

    (void)unused;
    if (r == NULL)
        return NULL;
    if (mime == NULL)
        return PyUnicode_FromString("");
    mc = ap_get_module_config(r->per_dir_config, mime);
    if (mc == NULL || mc->extension_mappings == NULL)
        return PyUnicode_FromString("");
    for (hi = apr_hash_first(r->pool, mc->extension_mappings); hi; hi = apr_hash_next(hi)) {
        const void *key;
        void *val;
        const mp_mime_ext_info *ei;

        apr_hash_this(hi, &key, NULL, &val);
        ei = val;
        if (ei != NULL && ei->handler != NULL &&
            (strcasecmp(ei->handler, "mod_python") == 0 ||
             strcasecmp(ei->handler, "python-program") == 0))
            res = apr_pstrcat(r->pool, res, (const char *)key, " ", NULL);
    }
    return mp_str(res);
}

/* mod_authz_core's per-directory config in httpd 2.4 (private to that
 * module; mirrored to list the Require lines, which 2.4 has no API for). */
#if MODULE_MAGIC_NUMBER_MAJOR == 20120211
#define MP_HAVE_AUTHZ_MIRROR 1
typedef struct mp_authz_section mp_authz_section;
struct mp_authz_section {
    const char *provider_name;
    const char *provider_args;
    const void *provider_parsed_args;
    const void *provider;
    apr_int64_t limited;
    int op;
    int negate;
    int is_merged;
    mp_authz_section *first;
    mp_authz_section *next;
};

typedef struct {
    mp_authz_section *section;
} mp_authz_dir_conf;

/* Append the Require lines under s that apply to method bit mbit. */
static int collect_requires(PyObject *list, const mp_authz_section *s,
                            apr_int64_t mbit, apr_pool_t *p, int depth)
{
    if (s == NULL || depth > 64)
        return 0;
    if (s->provider != NULL) {
        const char *line;
        PyObject *str;
        int rc;

        if (!(s->limited & mbit) || s->provider_name == NULL)
            return 0;
        line = apr_pstrcat(p, s->negate ? "not " : "", s->provider_name,
                           (s->provider_args && *s->provider_args) ? " " : "",
                           s->provider_args ? s->provider_args : "", NULL);
        str = mp_str(line);
        if (str == NULL)
            return -1;
        rc = PyList_Append(list, str);
        Py_DECREF(str);
        return rc;
    }
    for (s = s->first; s != NULL; s = s->next)
        if (collect_requires(list, s, mbit, p, depth + 1) < 0)
            return -1;
    return 0;
}
#endif

static PyObject *req_requires(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    PyObject *list, *res;

    (void)unused;
    if (r == NULL)
        return NULL;
    list = PyList_New(0);
    if (list == NULL)
        return NULL;
#ifdef MP_HAVE_AUTHZ_MIRROR
    {
        module *authz = ap_find_linked_module("mod_authz_core.c");
        const mp_authz_dir_conf *ac = authz ? ap_get_module_config(r->per_dir_config, authz) : NULL;
        int m = r->method_number;

        if (ac != NULL && m >= 0 && m < METHODS &&
            collect_requires(list, ac->section, AP_METHOD_BIT << m, r->pool, 0) < 0) {
            Py_DECREF(list);
            return NULL;
        }
    }
#endif
    res = PyList_AsTuple(list);
    Py_DECREF(list);
    return res;
}

/* ------------------------------------------------------------ auth */

static PyObject *req_auth_name(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);

    (void)unused;
    return r ? mp_str(ap_auth_name(r)) : NULL;
}

static PyObject *req_auth_type(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);

    (void)unused;
    return r ? mp_str(ap_auth_type(r)) : NULL;
}

static PyObject *req_get_basic_auth_pw(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    const char *pw = NULL;

    (void)unused;
    if (r == NULL)
        return NULL;
    if (ap_get_basic_auth_pw(r, &pw) != OK || pw == NULL)
        Py_RETURN_NONE;
    return mp_str_latin1(pw);
}

static PyObject *req_is_https(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    int on = 0;

    (void)unused;
    if (r == NULL)
        return NULL;
#ifdef MP_HAVE_HTTP_SSL
    on = ap_ssl_conn_is_ssl(r->connection);
#else
    {
        APR_OPTIONAL_FN_TYPE(ssl_is_https) *fn = APR_RETRIEVE_OPTIONAL_FN(ssl_is_https);
        on = fn ? fn(r->connection) : 0;
    }
#endif
    return PyLong_FromLong(on ? 1 : 0);
}

static PyObject *req_ssl_var_lookup(PyObject *o, PyObject *args)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    const char *name, *val = NULL;

    if (r == NULL || !PyArg_ParseTuple(args, "s:ssl_var_lookup", &name))
        return NULL;
#ifdef MP_HAVE_HTTP_SSL
    val = ap_ssl_var_lookup(r->pool, r->server, r->connection, r, name);
#else
    {
        APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *fn = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
        if (fn != NULL)
            val = fn(r->pool, r->server, r->connection, r, apr_pstrdup(r->pool, name));
    }
#endif
    return mp_str(val);
}

/* ------------------------------------------------ plain httpd wrappers */

static PyObject *req_allow_methods(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"methods", "reset", NULL};
    request_rec *r = mp_request_rec((mp_request *)o);
    PyObject *seq, *fast;
    int reset = 0;
    Py_ssize_t i, n;

    if (r == NULL ||
        !PyArg_ParseTupleAndKeywords(args, kw, "O|i:allow_methods", kwlist, &seq, &reset))
        return NULL;
    if (!PySequence_Check(seq) || PyUnicode_Check(seq) || PyBytes_Check(seq)) {
        PyErr_SetString(PyExc_TypeError, "First argument must be a sequence");
        return NULL;
    }
    fast = PySequence_Fast(seq, "First argument must be a sequence");
    if (fast == NULL)
        return NULL;
    n = PySequence_Fast_GET_SIZE(fast);
    for (i = 0; i < n; i++) {
        const char *m = mp_utf8_from_py(r->pool, PySequence_Fast_GET_ITEM(fast, i), "method");
        if (m == NULL) {
            Py_DECREF(fast);
            return NULL;
        }
        ap_allow_methods(r, (i == 0) ? reset : 0, m, NULL);
    }
    Py_DECREF(fast);
    Py_RETURN_NONE;
}

static PyObject *req_construct_url(PyObject *o, PyObject *args)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    const char *uri;

    if (r == NULL || !PyArg_ParseTuple(args, "s:construct_url", &uri))
        return NULL;
    return mp_str(ap_construct_url(r->pool, uri, r));
}

static PyObject *req_discard_request_body(PyObject *o, PyObject *unused)
{
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    int rc;

    (void)unused;
    if (r == NULL)
        return NULL;
    if (self->io_busy) {
        PyErr_SetString(PyExc_RuntimeError, "request body is being read by another thread");
        return NULL;
    }
    MP_BEGIN_BLOCKING
    rc = ap_discard_request_body(r);
    MP_END_BLOCKING
    /* Whatever was left is gone now, including what readline() held. */
    self->body_eof = 1;
    self->read_setup = 1;
    mp_request_io_free(self);
    return PyLong_FromLong(rc);
}

static PyObject *req_document_root(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);

    (void)unused;
    return r ? mp_str(ap_document_root(r)) : NULL;
}

static PyObject *req_get_remote_host(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"type", "str_is_ip", NULL};
    request_rec *r = mp_request_rec((mp_request *)o);
    PyObject *want_ip = Py_None, *host;
    int type = REMOTE_NAME, is_ip = 0;
    const char *name;

    if (r == NULL ||
        !PyArg_ParseTupleAndKeywords(args, kw, "|iO:get_remote_host", kwlist, &type, &want_ip))
        return NULL;
    MP_BEGIN_BLOCKING           /* may do DNS lookups */
    name = ap_get_remote_host(r->connection, r->per_dir_config, type,
                              want_ip != Py_None ? &is_ip : NULL);
    MP_END_BLOCKING
    if (name == NULL)
        Py_RETURN_NONE;
    host = mp_str(name);
    if (host == NULL || want_ip == Py_None)
        return host;
    return Py_BuildValue("(Ni)", host, is_ip);
}

static PyObject *req_internal_redirect(PyObject *o, PyObject *args)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    const char *uri;

    if (r == NULL || !PyArg_ParseTuple(args, "s:internal_redirect", &uri))
        return NULL;
    uri = apr_pstrdup(r->pool, uri);
    MP_BEGIN_BLOCKING           /* a whole request cycle; re-enters Python */
    ap_internal_redirect(uri, r);
    MP_END_BLOCKING
    Py_RETURN_NONE;
}

static PyObject *req_log_error(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"message", "level", NULL};
    request_rec *r = mp_request_rec((mp_request *)o);
    const char *msg = NULL;
    int level = APLOG_ERR;

    if (r == NULL ||
        !PyArg_ParseTupleAndKeywords(args, kw, "z|i:log_error", kwlist, &msg, &level))
        return NULL;
    if (msg != NULL) {
        MP_BEGIN_BLOCKING
        mp_log_message(r, NULL, NULL, level, msg, 0);
        MP_END_BLOCKING
    }
    Py_RETURN_NONE;
}

static int copy_challenge(void *to, const char *key, const char *val)
{
    apr_table_add(to, key, val);
    return 1;
}

/* req.lookup_file(path): what httpd's own rules say about serving path
 * (ap_sub_req_lookup_file: Options FollowSymLinks/SymLinksIfOwnerMatch,
 * <Directory>/<Files>, access, authentication, authorisation): OK, or the
 * status the sub-request was refused with.  A 401's challenge is copied to
 * err_headers_out so that raising it asks the client for credentials. */
static PyObject *req_lookup_file(PyObject *o, PyObject *args)
{
    request_rec *r = mp_request_rec((mp_request *)o), *rr;
    PyObject *b = NULL;
    const char *path;
    int status;

    if (r == NULL || !PyArg_ParseTuple(args, "O&:lookup_file", PyUnicode_FSConverter, &b))
        return NULL;
    path = apr_pstrdup(r->pool, PyBytes_AS_STRING(b));
    Py_DECREF(b);
    MP_BEGIN_BLOCKING           /* runs the access hooks, Python ones included */
    rr = ap_sub_req_lookup_file(path, r, NULL);
    status = rr->status == HTTP_OK ? OK : rr->status;
    if (status == HTTP_UNAUTHORIZED || status == HTTP_PROXY_AUTHENTICATION_REQUIRED)
        apr_table_do(copy_challenge, r->err_headers_out, rr->err_headers_out,
                     "WWW-Authenticate", "Proxy-Authenticate", NULL);
    ap_destroy_sub_req(rr);
    MP_END_BLOCKING
    return PyLong_FromLong(status);
}

static PyObject *req_meets_conditions(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);

    (void)unused;
    return r ? PyLong_FromLong(ap_meets_conditions(r)) : NULL;
}

static PyObject *req_send_http_header(PyObject *o, PyObject *unused)
{
    (void)unused;
    if (mp_request_rec((mp_request *)o) == NULL)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *req_set_content_length(PyObject *o, PyObject *args)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    long long len;

    if (r == NULL || !PyArg_ParseTuple(args, "L:set_content_length", &len))
        return NULL;
    if (len < 0) {
        PyErr_SetString(PyExc_ValueError, "content length must not be negative");
        return NULL;
    }
    ap_set_content_length(r, (apr_off_t)len);
    Py_RETURN_NONE;
}

static PyObject *req_set_etag(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);

    (void)unused;
    if (r == NULL)
        return NULL;
    ap_set_etag(r);
    Py_RETURN_NONE;
}

static PyObject *req_set_last_modified(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);

    (void)unused;
    if (r == NULL)
        return NULL;
    ap_set_last_modified(r);
    Py_RETURN_NONE;
}

static PyObject *req_update_mtime(PyObject *o, PyObject *args)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    double secs;

    if (r == NULL || !PyArg_ParseTuple(args, "d:update_mtime", &secs))
        return NULL;
    ap_update_mtime(r, (apr_time_t)(secs * (double)APR_USEC_PER_SEC));
    Py_RETURN_NONE;
}

/* ------------------------------------------------------- cleanups */

typedef struct {
    mp_interp *ip;
    server_rec *s;
    PyObject *callable;
    PyObject *data;
} mp_req_cleanup;

/* Log "python_cleanup: Error calling cleanup object <repr>" and the traceback. */
static void log_cleanup_error(mp_req_cleanup *c)
{
    PyObject *exc = mp_exc_fetch(), *rep;
    const char *txt;

    rep = PyObject_Repr(c->callable);
    txt = rep ? PyUnicode_AsUTF8(rep) : NULL;
    if (txt == NULL)
        PyErr_Clear();
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, c->s, MP_APLOGNO(0503)
                 "python_cleanup: Error calling cleanup object %s", txt ? txt : "<?>");
    Py_XDECREF(rep);
    mp_exc_restore(exc);
    mp_log_py_error(NULL, NULL, c->s, "python_cleanup");
}

/* Request pool cleanup (no GIL held): call callable(data) in its interpreter. */
static apr_status_t run_cleanup(void *p)
{
    mp_req_cleanup *c = p;
    mp_gil_token tok;
    PyObject *res;

    if (!mp_interp_python_ready())
        return APR_SUCCESS;
    mp_interp_enter(c->ip, &tok);
    res = PyObject_CallOneArg(c->callable, c->data);
    if (res == NULL)
        log_cleanup_error(c);
    Py_XDECREF(res);
    Py_CLEAR(c->callable);
    Py_CLEAR(c->data);
    mp_interp_leave(&tok);
    return APR_SUCCESS;
}

static PyObject *req_register_cleanup(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"callable", "data", NULL};
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    PyObject *callable, *data = Py_None;
    mp_reqstate *rs;
    mp_req_cleanup *c;

    if (r == NULL ||
        !PyArg_ParseTupleAndKeywords(args, kw, "O|O:register_cleanup", kwlist,
                                     &callable, &data))
        return NULL;
    if (!PyCallable_Check(callable)) {
        PyErr_SetString(PyExc_ValueError, "first argument must be a callable object");
        return NULL;
    }
    rs = mp_reqstate_get(r, 1);
    if (rs->ending)
        Py_RETURN_NONE;             /* cleanups already running: too late */
    rs->python_at_end = 1;
    c = apr_pcalloc(r->pool, sizeof(*c));
    c->ip = self->ip;
    c->s = r->server;
    Py_INCREF(callable);
    Py_INCREF(data);
    c->callable = callable;
    c->data = data;
    apr_pool_cleanup_register(r->pool, c, run_cleanup, apr_pool_cleanup_null);
    Py_RETURN_NONE;
}

PyMethodDef mp_request_other_methods[] = {
    {"add_cgi_vars", req_add_cgi_vars, METH_NOARGS, "add CGI/1.1 variables to subprocess_env"},
    {"add_common_vars", req_add_common_vars, METH_NOARGS, "ap_add_common_vars()"},
    {"add_handler", METH_ARGS(req_add_handler), "add_handler(phase, handler[, dir])"},
    {"add_input_filter", req_add_input_filter, METH_VARARGS, "add_input_filter(name)"},
    {"add_output_filter", req_add_output_filter, METH_VARARGS, "add_output_filter(name)"},
    {"allow_methods", METH_ARGS(req_allow_methods), "allow_methods(methods[, reset])"},
    {"auth_name", req_auth_name, METH_NOARGS, "AuthName in effect"},
    {"auth_type", req_auth_type, METH_NOARGS, "AuthType in effect"},
    {"build_wsgi_env", mp_request_build_wsgi_env, METH_NOARGS,
     "the PEP 3333 environ of the request (None: URI outside the base URI)"},
    {"construct_url", req_construct_url, METH_VARARGS, "construct_url(uri) -> absolute URL"},
    {"discard_request_body", req_discard_request_body, METH_NOARGS,
     "read and discard the request body"},
    {"document_root", req_document_root, METH_NOARGS, "DocumentRoot in effect"},
    {"get_addhandler_exts", req_get_addhandler_exts, METH_NOARGS,
     "extensions mapped to mod_python by AddHandler"},
    {"get_basic_auth_pw", req_get_basic_auth_pw, METH_NOARGS, "password of Basic auth"},
    {"get_config", req_get_config, METH_NOARGS, "mod_python configuration table"},
    {"get_options", req_get_options, METH_NOARGS, "PythonOption table"},
    {"get_remote_host", METH_ARGS(req_get_remote_host),
     "get_remote_host([type, str_is_ip])"},
    {"internal_redirect", req_internal_redirect, METH_VARARGS, "internal_redirect(uri)"},
    {"is_https", req_is_https, METH_NOARGS, "1 if the connection is HTTPS"},
    {"log_error", METH_ARGS(req_log_error), "log_error(message[, level])"},
    {"lookup_file", req_lookup_file, METH_VARARGS,
     "lookup_file(path) -> OK or the status httpd's rules refuse path with"},
    {"meets_conditions", req_meets_conditions, METH_NOARGS, "ap_meets_conditions()"},
    {"register_cleanup", METH_ARGS(req_register_cleanup),
     "register_cleanup(callable[, data])"},
    {"register_input_filter", METH_ARGS(req_register_input_filter),
     "register_input_filter(name, handler[, dir])"},
    {"register_output_filter", METH_ARGS(req_register_output_filter),
     "register_output_filter(name, handler[, dir])"},
    {"requires", req_requires, METH_NOARGS, "Require lines applying to this request"},
    {"send_http_header", req_send_http_header, METH_NOARGS, "no-op"},
    {"set_content_length", req_set_content_length, METH_VARARGS, "set_content_length(len)"},
    {"set_etag", req_set_etag, METH_NOARGS, "ap_set_etag()"},
    {"set_last_modified", req_set_last_modified, METH_NOARGS, "ap_set_last_modified()"},
    {"ssl_var_lookup", req_ssl_var_lookup, METH_VARARGS, "ssl_var_lookup(name)"},
    {"update_mtime", req_update_mtime, METH_VARARGS, "update_mtime(seconds)"},
    {"wsgi_start_response", METH_ARGS(mp_request_wsgi_start_response),
     "wsgi_start_response(status, headers[, exc_info]) -> write callable"},
    {NULL, NULL, 0, NULL}
};
