/*
 * request.c - the mp_request type (mod_python 3.5 manual: "Request Object"): object
 * life cycle and attributes.  Body I/O lives in request_io.c, the other methods in
 * request_methods.c.
 *
 * One object per (request_rec, interpreter), kept in mod_python's request
 * state (reqstate.c).  When the request pool goes away the object is
 * detached: `dead` is set, `r` cleared and every cached member dropped, so
 * a reference kept by user code raises RuntimeError instead of touching
 * freed memory.
 *
 * Plain request_rec fields are served by one getter and one setter driven
 * by a table of {offset, type} descriptors (the PyGetSetDef closure), in
 * the manner of mod_lua's req_fun_t; only the attributes with behaviour of
 * their own have their own functions.
 */
#include "mp_common.h"
#include "mp_request.h"
#include "mp_reqstate.h"
#include "mp_table.h"
#include "mp_conn.h"
#include "mp_server.h"
#include "mp_finfo.h"
#include "mp_hlist.h"

#include <limits.h>
#include <stddef.h>

/* ------------------------------------------------------------ members */

typedef enum {
    MP_M_STR,        /* char *: str? ; set from str/bytes (Latin-1), None rejected */
    MP_M_STR_NONE,   /* char *: as MP_M_STR, but None sets NULL */
    MP_M_LATIN1,     /* char *: read as Latin-1 (req.user) */
    MP_M_INT,        /* int */
    MP_M_UINT,       /* unsigned */
    MP_M_OFF,        /* apr_off_t */
    MP_M_I64,        /* apr_int64_t */
    MP_M_TIME,       /* apr_time_t -> float seconds */
    MP_M_STRARR      /* apr_array_header_t * of char * -> tuple of str */
} mp_member_type;

typedef struct {
    const char *name;
    size_t offset;
    mp_member_type type;
    const char *type_error;     /* setter TypeError text, NULL = generic */
} mp_member;

#define MEMBER(n, t) \
    static mp_member m_##n = {#n, offsetof(request_rec, n), t, NULL}

MEMBER(the_request, MP_M_STR);
MEMBER(assbackwards, MP_M_INT);
MEMBER(proxyreq, MP_M_INT);
MEMBER(header_only, MP_M_INT);
MEMBER(protocol, MP_M_STR);
MEMBER(proto_num, MP_M_INT);
MEMBER(hostname, MP_M_STR);
MEMBER(request_time, MP_M_TIME);
MEMBER(status_line, MP_M_STR);
MEMBER(status, MP_M_INT);
MEMBER(method, MP_M_STR);
MEMBER(method_number, MP_M_INT);
MEMBER(allowed, MP_M_I64);
MEMBER(allowed_xmethods, MP_M_STRARR);
MEMBER(sent_bodyct, MP_M_OFF);
MEMBER(bytes_sent, MP_M_OFF);
MEMBER(mtime, MP_M_TIME);
static mp_member m_chunked = {"chunked", offsetof(request_rec, chunked), MP_M_INT,
                              "chunked must be a integer"};
MEMBER(range, MP_M_STR);
MEMBER(clength, MP_M_OFF);
MEMBER(remaining, MP_M_OFF);
MEMBER(read_length, MP_M_OFF);
MEMBER(read_body, MP_M_INT);
MEMBER(read_chunked, MP_M_INT);
MEMBER(expecting_100, MP_M_UINT);
MEMBER(handler, MP_M_STR_NONE);
MEMBER(content_encoding, MP_M_STR);
MEMBER(content_languages, MP_M_STRARR);
MEMBER(vlist_validator, MP_M_STR);
MEMBER(user, MP_M_LATIN1);
MEMBER(ap_auth_type, MP_M_STR);
MEMBER(no_cache, MP_M_INT);
MEMBER(no_local_copy, MP_M_INT);
MEMBER(unparsed_uri, MP_M_STR);
MEMBER(uri, MP_M_STR);
MEMBER(filename, MP_M_STR);
MEMBER(canonical_filename, MP_M_STR);
MEMBER(path_info, MP_M_STR);
MEMBER(args, MP_M_STR_NONE);
MEMBER(used_path_info, MP_M_INT);
MEMBER(eos_sent, MP_M_INT);
MEMBER(useragent_ip, MP_M_STR);

static PyObject *str_array_tuple(const apr_array_header_t *a)
{
    PyObject *t;
    int i;

    if (a == NULL)
        return PyTuple_New(0);
    t = PyTuple_New(a->nelts);
    if (t == NULL)
        return NULL;
    for (i = 0; i < a->nelts; i++) {
        PyObject *s = mp_str(((const char **)a->elts)[i]);
        if (s == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, s);
    }
    return t;
}

static PyObject *member_get(PyObject *o, void *closure)
{
    const mp_member *m = closure;
    request_rec *r = mp_request_rec((mp_request *)o);
    char *field;

    if (r == NULL)
        return NULL;
    field = (char *)r + m->offset;
    switch (m->type) {
    case MP_M_STR:
    case MP_M_STR_NONE:
        return mp_str(*(const char **)field);
    case MP_M_LATIN1:
        return mp_str_latin1(*(const char **)field);
    case MP_M_INT:
        return PyLong_FromLong(*(int *)field);
    case MP_M_UINT:
        return PyLong_FromUnsignedLong(*(unsigned *)field);
    case MP_M_OFF:
        return PyLong_FromLongLong((long long)*(apr_off_t *)field);
    case MP_M_I64:
        return PyLong_FromLongLong((long long)*(apr_int64_t *)field);
    case MP_M_TIME:
        return mp_float_time(*(apr_time_t *)field);
    case MP_M_STRARR:
        return str_array_tuple(*(apr_array_header_t **)field);
    }
    PyErr_SetString(PyExc_SystemError, "bad request member type");
    return NULL;
}

static int no_delete(PyObject *v)
{
    if (v == NULL) {
        PyErr_SetString(PyExc_AttributeError, "can't delete request attributes");
        return 1;
    }
    return 0;
}

/* Python int -> C int (TypeError for non-ints, OverflowError if too big). */
static int int_from_py(PyObject *v, const mp_member *m, long *out, long lo, long hi)
{
    long l;

    if (!PyLong_Check(v)) {
        if (m->type_error != NULL)
            PyErr_SetString(PyExc_TypeError, m->type_error);
        else
            PyErr_Format(PyExc_TypeError, "%s must be an integer", m->name);
        return -1;
    }
    l = PyLong_AsLong(v);
    if (l == -1 && PyErr_Occurred())
        return -1;
    if (l < lo || l > hi) {
        PyErr_Format(PyExc_OverflowError, "%s out of range", m->name);
        return -1;
    }
    *out = l;
    return 0;
}

static int member_set(PyObject *o, PyObject *v, void *closure)
{
    const mp_member *m = closure;
    request_rec *r = mp_request_rec((mp_request *)o);
    char *field;
    long l;

    if (r == NULL || no_delete(v))
        return -1;
    field = (char *)r + m->offset;
    switch (m->type) {
    case MP_M_STR_NONE:
        if (v == Py_None) {
            *(const char **)field = NULL;
            return 0;
        }
        /* fall through */
    case MP_M_STR:
    case MP_M_LATIN1: {
        const char *s = mp_latin1_from_py(r->pool, v, m->name);
        if (s == NULL)
            return -1;
        *(const char **)field = s;
        return 0;
    }
    case MP_M_INT:
        if (int_from_py(v, m, &l, INT_MIN, INT_MAX) < 0)
            return -1;
        *(int *)field = (int)l;
        return 0;
    default:
        break;
    }
    PyErr_Format(PyExc_AttributeError, "attribute '%s' of 'mp_request' objects is not writable",
                 m->name);
    return -1;
}

/* ------------------------------------------------ special attributes */

static PyObject *new_ref(PyObject *o)
{
    if (o == NULL)
        Py_RETURN_NONE;
    Py_INCREF(o);
    return o;
}

static PyObject *get_connection(PyObject *o, void *closure)
{
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);

    (void)closure;
    if (r == NULL)
        return NULL;
    if (self->connection == NULL) {
        self->connection = mp_conn_new(r->connection, NULL);
        if (self->connection == NULL)
            return NULL;
    }
    return new_ref(self->connection);
}

static PyObject *get_server(PyObject *o, void *closure)
{
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);

    (void)closure;
    if (r == NULL)
        return NULL;
    if (self->server == NULL) {
        self->server = mp_server_new(r->server);
        if (self->server == NULL)
            return NULL;
    }
    return new_ref(self->server);
}

/* closure: offset of the request_rec * field (next, prev, main) */
static PyObject *get_related(PyObject *o, void *closure)
{
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self), *other;

    if (r == NULL)
        return NULL;
    other = *(request_rec **)((char *)r + (size_t)closure);
    if (other == NULL)
        Py_RETURN_NONE;
    return mp_request_get(other, self->ip);
}

/* A table attribute: where the apr_table_t * lives and where we cache its view. */
typedef struct {
    size_t rec_offset;
    size_t obj_offset;
} mp_table_member;

#define TABLE_MEMBER(n) \
    static mp_table_member t_##n = {offsetof(request_rec, n), offsetof(mp_request, n)}
TABLE_MEMBER(headers_in);
TABLE_MEMBER(headers_out);
TABLE_MEMBER(err_headers_out);
TABLE_MEMBER(subprocess_env);
TABLE_MEMBER(notes);

static PyObject *get_table(PyObject *o, void *closure)
{
    const mp_table_member *tm = closure;
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    apr_table_t **tp;
    PyObject **cache;

    if (r == NULL)
        return NULL;
    tp = (apr_table_t **)((char *)r + tm->rec_offset);
    cache = (PyObject **)((char *)self + tm->obj_offset);
    if (*tp == NULL)
        *tp = apr_table_make(r->pool, 4);
    /* httpd may have replaced the table (e.g. internal redirects): re-wrap. */
    if (*cache != NULL && ((mp_table *)*cache)->table != *tp)
        Py_CLEAR(*cache);
    if (*cache == NULL) {
        *cache = mp_table_wrap(*tp, o);
        if (*cache == NULL)
            return NULL;
    }
    return new_ref(*cache);
}

static PyObject *get_content_type(PyObject *o, void *closure)
{
    request_rec *r = mp_request_rec((mp_request *)o);

    (void)closure;
    return r ? mp_str(r->content_type) : NULL;
}

static int set_content_type(PyObject *o, PyObject *v, void *closure)
{
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    const char *s;

    (void)closure;
    if (r == NULL || no_delete(v))
        return -1;
    s = mp_latin1_from_py(r->pool, v, "content_type");
    if (s == NULL)
        return -1;
    ap_set_content_type(r, s);
    self->content_type_set = 1;
    return 0;
}

static PyObject *get_finfo(PyObject *o, void *closure)
{
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);

    (void)closure;
    if (r == NULL)
        return NULL;
    if (self->finfo == NULL) {
        self->finfo = mp_finfo_wrap(&r->finfo, o);
        if (self->finfo == NULL)
            return NULL;
    }
    return new_ref(self->finfo);
}

static int set_finfo(PyObject *o, PyObject *v, void *closure)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    const apr_finfo_t *src;
    apr_finfo_t copy;

    (void)closure;
    if (r == NULL || no_delete(v))
        return -1;
    if (!mp_finfo_check(v)) {
        PyErr_SetString(PyExc_TypeError, "finfo must be a finfoobject");
        return -1;
    }
    src = mp_finfo_ptr(v);
    if (src == NULL) {
        PyErr_SetString(PyExc_ValueError, "finfo object holds no file information");
        return -1;
    }
    /* Copy the struct; the strings must live as long as the request. */
    copy = *src;
    copy.pool = r->pool;
    copy.filehand = NULL;
    copy.fname = src->fname ? apr_pstrdup(r->pool, src->fname) : NULL;
    copy.name = src->name ? apr_pstrdup(r->pool, src->name) : NULL;
    r->finfo = copy;
    return 0;
}

static PyObject *get_parsed_uri(PyObject *o, void *closure)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    const apr_uri_t *u;
    PyObject *t, *items[9];
    int i;

    (void)closure;
    if (r == NULL)
        return NULL;
    u = &r->parsed_uri;
    items[0] = mp_str(u->scheme);
    items[1] = mp_str(u->hostinfo);
    items[2] = mp_str(u->user);
    items[3] = mp_str(u->password);
    items[4] = mp_str(u->hostname);
    if (u->port_str != NULL)
        items[5] = PyLong_FromLong((long)u->port);
    else
        items[5] = new_ref(NULL);
    items[6] = mp_str(u->path);
    items[7] = mp_str(u->query);
    items[8] = mp_str(u->fragment);
    t = PyTuple_New(9);
    for (i = 0; i < 9; i++) {
        if (items[i] == NULL || t == NULL) {
            int j;
            for (j = 0; j < 9; j++)
                Py_XDECREF(items[j]);
            Py_XDECREF(t);
            return NULL;
        }
    }
    for (i = 0; i < 9; i++)
        PyTuple_SET_ITEM(t, i, items[i]);
    return t;
}

static PyObject *get_allowed_methods(PyObject *o, void *closure)
{
    request_rec *r = mp_request_rec((mp_request *)o);

    (void)closure;
    if (r == NULL)
        return NULL;
    return str_array_tuple(r->allowed_methods ? r->allowed_methods->method_list : NULL);
}

static PyObject *get_useragent_addr(PyObject *o, void *closure)
{
    request_rec *r = mp_request_rec((mp_request *)o);

    (void)closure;
    return r ? mp_sockaddr_tuple(r->useragent_addr) : NULL;
}

static PyObject *get_phase(PyObject *o, void *closure)
{
    mp_request *self = (mp_request *)o;

    (void)closure;
    if (mp_request_rec(self) == NULL)
        return NULL;
    if (self->phase == NULL && self->phase_idx >= 0
        && (self->phase = PyUnicode_InternFromString(mp_phase_names[self->phase_idx])) == NULL)
        return NULL;
    return new_ref(self->phase);
}

PyObject *mp_request_hlist(PyObject *req)
{
    mp_request *self = (mp_request *)req;
    request_rec *r = self->r;

    if (self->hlist == NULL && self->phase_idx >= 0 && self->list != NULL && r != NULL)
        self->hlist = mp_hlist_new(r->pool, self->list);
    return self->hlist;
}

static PyObject *get_hlist(PyObject *o, void *closure)
{
    mp_request *self = (mp_request *)o;

    (void)closure;
    if (mp_request_rec(self) == NULL)
        return NULL;
    if (mp_request_hlist(o) == NULL && PyErr_Occurred())
        return NULL;
    return new_ref(self->hlist);
}

static PyObject *get_extension(PyObject *o, void *closure)
{
    mp_request *self = (mp_request *)o;

    (void)closure;
    if (mp_request_rec(self) == NULL)
        return NULL;
    if (self->extension == NULL && self->ext != NULL
        && (self->extension = mp_str(self->ext)) == NULL)
        return NULL;
    return new_ref(self->extension);
}

static PyObject *get_interpreter(PyObject *o, void *closure)
{
    mp_request *self = (mp_request *)o;

    (void)closure;
    if (mp_request_rec(self) == NULL)
        return NULL;
    return mp_str(self->ip && self->ip->name ? self->ip->name : MP_MAIN_INTERPRETER);
}

static PyObject *get_content_type_set(PyObject *o, void *closure)
{
    mp_request *self = (mp_request *)o;

    (void)closure;
    if (mp_request_rec(self) == NULL)
        return NULL;
    return PyLong_FromLong(self->content_type_set);
}

static PyObject *get_bytes_queued(PyObject *o, void *closure)
{
    mp_request *self = (mp_request *)o;

    (void)closure;
    if (mp_request_rec(self) == NULL)
        return NULL;
    return PyLong_FromLongLong((long long)self->bytes_queued);
}

static PyObject *get_request_rec(PyObject *o, void *closure)
{
    request_rec *r = mp_request_rec((mp_request *)o);

    (void)closure;
    return r ? PyCapsule_New(r, NULL, NULL) : NULL;
}

/* The docs are what help(req) shows (docs/api/request.rst has the long form). */
#define RO(n, d) {.name = #n, .get = member_get, .set = NULL, .doc = d, .closure = &m_##n}
#define RW(n, d) {.name = #n, .get = member_get, .set = member_set, .doc = d, .closure = &m_##n}
#define TBL(n, d) {.name = #n, .get = get_table, .set = NULL, .doc = d, .closure = &t_##n}
#define REL(n, d) {.name = #n, .get = get_related, .set = NULL, .doc = d, \
                   .closure = (void *)offsetof(request_rec, n)}
#define FN(n, g, s, d) {.name = n, .get = g, .set = s, .doc = d, .closure = NULL}

static PyGetSetDef req_getset[] = {
    FN("connection", get_connection, NULL, "the connection (mp_conn)"),
    FN("server", get_server, NULL, "the virtual host serving the request (mp_server)"),
    REL(next, "request this one was internally redirected to, or None"),
    REL(prev, "request this one was internally redirected from, or None"),
    REL(main, "main request of a sub-request, or None"),
    RO(the_request, "first line of the request"),
    RW(assbackwards, "true for an HTTP/0.9 request (no headers sent)"),
    RW(proxyreq, "PROXYREQ_* constant"),
    RO(header_only, "true for HEAD requests"),
    RO(protocol, "protocol string, e.g. 'HTTP/1.1'"),
    RO(proto_num, "protocol number, e.g. 1001 for HTTP/1.1"),
    RO(hostname, "host name the client asked for"),
    RO(request_time, "start of the request, seconds since the epoch"),
    RW(status_line, "full status line, e.g. '200 OK'"),
    RW(status, "HTTP status of the response"),
    RO(method, "request method, e.g. 'GET'"),
    RO(method_number, "request method as an M_* constant"),
    RO(allowed, "bit mask of allowed methods (1 << M_*)"),
    RO(allowed_xmethods, "allowed extension methods (tuple)"),
    FN("allowed_methods", get_allowed_methods, NULL, "allowed methods (tuple of names)"),
    RO(sent_bodyct, "true once the response body has started"),
    RO(bytes_sent, "body bytes sent so far"),
    RO(mtime, "modification time used for Last-Modified"),
    RW(chunked, "true when the response is sent chunked"),
    RO(range, "the Range header"),
    RO(clength, "Content-Length of the response set so far"),
    RO(remaining, "request body bytes not read yet"),
    RO(read_length, "request body bytes read so far"),
    RO(read_body, "body policy, REQUEST_* constant"),
    RO(read_chunked, "true when the request body is chunked"),
    RO(expecting_100, "true when the client sent Expect: 100-continue"),
    FN("content_type", get_content_type, set_content_type, "Content-Type of the response"),
    RW(handler, "name of the content handler, e.g. 'mod_python'"),
    RO(content_encoding, "Content-Encoding of the response"),
    RO(content_languages, "languages of the response (tuple)"),
    RO(vlist_validator, "validator of a content variant"),
    RW(user, "authenticated user name"),
    RW(ap_auth_type, "authentication scheme used"),
    RW(no_cache, "true to forbid caching of the response"),
    RW(no_local_copy, "true to never answer 304"),
    RO(unparsed_uri, "URI as sent by the client"),
    RW(uri, "path part of the URI"),
    RW(filename, "file the URI maps to"),
    RW(canonical_filename, "canonical form of filename"),
    RW(path_info, "path after the file name"),
    RW(args, "query string, or None"),
    FN("finfo", get_finfo, set_finfo, "file information of filename (mp_finfo)"),
    FN("parsed_uri", get_parsed_uri, NULL, "URI as a tuple indexed by the URI_* constants"),
    RW(used_path_info, "AP_REQ_*_PATH_INFO: whether path_info is accepted"),
    RO(eos_sent, "true once the end of the response was sent"),
    TBL(headers_in, "request headers (mp_table)"),
    TBL(headers_out, "response headers (mp_table), not sent with errors"),
    TBL(err_headers_out, "response headers (mp_table) sent with errors too"),
    TBL(subprocess_env, "environment variables (mp_table)"),
    TBL(notes, "notes shared between modules and phases (mp_table)"),
    FN("phase", get_phase, NULL, "running phase, e.g. 'PythonHandler'"),
    FN("hlist", get_hlist, NULL, "handler list of the running phase (mp_hlist)"),
    FN("extension", get_extension, NULL,
       "extension matched by a '| .ext' handler list, or None"),
    FN("interpreter", get_interpreter, NULL, "name of the interpreter running the handler"),
    FN("_content_type_set", get_content_type_set, NULL, "1 once content_type was set"),
    FN("_bytes_queued", get_bytes_queued, NULL, "body bytes written but not yet flushed"),
    FN("_request_rec", get_request_rec, NULL, "raw request_rec pointer (capsule)"),
    FN("useragent_addr", get_useragent_addr, NULL, "(ip, port) of the client as httpd sees it"),
    RO(useragent_ip, "client IP address as httpd sees it"),
    FN("__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, "attributes set by handlers"),
    {NULL, NULL, NULL, NULL, NULL}
};

/* ---------------------------------------------------------- the type */

/* Dunder names stay reachable on a dead object (repr, type checks). */
static int is_dunder(PyObject *name)
{
    const char *s = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;

    if (s == NULL) {
        PyErr_Clear();
        return 0;
    }
    return s[0] == '_' && s[1] == '_';
}

static PyObject *req_getattro(PyObject *o, PyObject *name)
{
    if (((mp_request *)o)->dead && !is_dunder(name))
        return mp_err_dead("mp_request");
    return PyObject_GenericGetAttr(o, name);
}

static int req_setattro(PyObject *o, PyObject *name, PyObject *v)
{
    if (((mp_request *)o)->dead && !is_dunder(name)) {
        mp_err_dead("mp_request");
        return -1;
    }
    return PyObject_GenericSetAttr(o, name, v);
}

static int req_traverse(PyObject *o, visitproc visit, void *arg)
{
    mp_request *self = (mp_request *)o;

    Py_VISIT(self->dict);
    Py_VISIT(self->phase);
    Py_VISIT(self->hlist);
    Py_VISIT(self->extension);
    Py_VISIT(self->connection);
    Py_VISIT(self->server);
    Py_VISIT(self->headers_in);
    Py_VISIT(self->headers_out);
    Py_VISIT(self->err_headers_out);
    Py_VISIT(self->subprocess_env);
    Py_VISIT(self->notes);
    Py_VISIT(self->config);
    Py_VISIT(self->options);
    Py_VISIT(self->finfo);
    return 0;
}

/* Drop the cached members (not the instance dict). */
static void clear_cached(mp_request *self)
{
    Py_CLEAR(self->phase);
    Py_CLEAR(self->hlist);
    Py_CLEAR(self->extension);
    Py_CLEAR(self->connection);
    Py_CLEAR(self->server);
    Py_CLEAR(self->headers_in);
    Py_CLEAR(self->headers_out);
    Py_CLEAR(self->err_headers_out);
    Py_CLEAR(self->subprocess_env);
    Py_CLEAR(self->notes);
    Py_CLEAR(self->config);
    Py_CLEAR(self->options);
    Py_CLEAR(self->finfo);
    self->config_src = NULL;
    self->options_src = NULL;
}

static int req_clear(PyObject *o)
{
    mp_request *self = (mp_request *)o;

    clear_cached(self);
    Py_CLEAR(self->dict);
    return 0;
}

static void req_dealloc(PyObject *o)
{
    mp_request *self = (mp_request *)o;

    PyObject_GC_UnTrack(o);
    req_clear(o);
    mp_request_io_free(self);
    PyObject_GC_Del(o);
}

/* Pool cleanup of the request (GIL held in self's interpreter). */
static void req_detach(PyObject *o)
{
    mp_request *self = (mp_request *)o;

    self->dead = 1;
    self->r = NULL;
    self->bb_in = NULL;
    mp_request_io_free(self);
    clear_cached(self);
    /* Break reference cycles through attributes users stored (req.form...). */
    Py_CLEAR(self->dict);
}

#define MP_REQ_MAX_METHODS 64
static PyMethodDef req_methods[MP_REQ_MAX_METHODS + 1];

PyTypeObject MpRequest_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mp_request",
    .tp_basicsize = sizeof(mp_request),
    .tp_itemsize = 0,
    .tp_dealloc = req_dealloc,
    .tp_getattro = req_getattro,
    .tp_setattro = req_setattro,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "An httpd request (request_rec), the argument of request handlers: "
              "read the body, write the response, headers, configuration.",
    .tp_traverse = req_traverse,
    .tp_clear = req_clear,
    .tp_methods = req_methods,
    .tp_getset = req_getset,
    .tp_dictoffset = offsetof(mp_request, dict),
};

static int join_methods(void)
{
    PyMethodDef *tables[2] = {mp_request_io_methods, mp_request_other_methods};
    int n = 0, t;

    for (t = 0; t < 2; t++) {
        PyMethodDef *m;
        for (m = tables[t]; m->ml_name != NULL; m++) {
            if (n >= MP_REQ_MAX_METHODS) {
                PyErr_SetString(PyExc_SystemError, "mp_request: too many methods");
                return -1;
            }
            req_methods[n++] = *m;
        }
    }
    memset(&req_methods[n], 0, sizeof(req_methods[n]));
    return 0;
}

int mp_request_type_init(void)
{
    static int ready;

    if (ready)
        return 0;
    if (join_methods() < 0 || PyType_Ready(&MpRequest_Type) < 0)
        return -1;
    ready = 1;
    return 0;
}

PyObject *mp_request_get(request_rec *r, mp_interp *ip)
{
    PyObject *o = mp_reqstate_object(r, ip);
    mp_request *self;

    if (o != NULL) {
        Py_INCREF(o);
        return o;
    }
    if (mp_request_type_init() < 0)
        return NULL;
    self = PyObject_GC_New(mp_request, &MpRequest_Type);
    if (self == NULL)
        return NULL;
    memset((char *)self + sizeof(PyObject), 0, sizeof(mp_request) - sizeof(PyObject));
    self->phase_idx = -1;
    self->r = r;
    self->ip = ip;
    PyObject_GC_Track((PyObject *)self);
    mp_reqstate_attach(r, ip, (PyObject *)self, req_detach);
    return (PyObject *)self;
}

void mp_request_set_phase(PyObject *req, int phase, mp_handler *list, const char *ext)
{
    mp_request *self = (mp_request *)req;

    self->phase_idx = phase;
    self->list = list;
    self->ext = ext;
    Py_CLEAR(self->phase);
    Py_CLEAR(self->hlist);
    Py_CLEAR(self->extension);
}
