/*
 * conn.c - the mp_conn object (mod_python 3.5 manual: "Connection Object
 * (mp_conn)"): a conn_rec wrapper with the connection-handler I/O
 * (read/readline/write through the connection's filter chains).
 *
 * The object is marked dead by a cleanup on c->pool (killed in dealloc);
 * every attribute and method then raises instead of touching freed memory.
 * Attributes are read through one descriptor table.
 */
#include "mp_common.h"
#include "mp_conn.h"
#include "mp_server.h"
#include "mp_table.h"
#include "mp_hlist.h"
#include "mp_log.h"
#include "mp_interp.h"
#include <stddef.h>

static apr_status_t conn_pool_gone(void *data)
{
    mp_conn *self = (mp_conn *)data;

    /* Runs without the GIL: plain C fields only. */
    self->dead = 1;
    self->cleanup_pool = NULL;
    self->bb_in = NULL;
    self->bb_out = NULL;
    return APR_SUCCESS;
}

#define CONN_CHECK(self, ret) \
    do { if ((self)->dead || (self)->c == NULL) { mp_err_dead("mp_conn"); return (ret); } } while (0)

/* ------------------------------------------------------------------ */
/* attributes                                                          */
/* ------------------------------------------------------------------ */

typedef enum { CN_STR, CN_INT, CN_LONG, CN_FUNC } cn_kind;

typedef struct {
    cn_kind kind;
    size_t offset;
    PyObject *(*fn)(mp_conn *self);
} cn_attr;

static PyObject *cn_base_server(mp_conn *self)
{
    if (self->base_server == NULL) {
        self->base_server = mp_server_new(self->c->base_server);
        if (self->base_server == NULL)
            return NULL;
    }
    Py_INCREF(self->base_server);
    return self->base_server;
}

static PyObject *cn_local_addr(mp_conn *self) { return mp_sockaddr_tuple(self->c->local_addr); }
static PyObject *cn_client_addr(mp_conn *self) { return mp_sockaddr_tuple(self->c->client_addr); }

static void cn_deprecated(mp_conn *self, const char *msg)
{
    mp_log_message(NULL, self->c, NULL, APLOG_WARNING, msg, 1);
}

static PyObject *cn_remote_addr(mp_conn *self)
{
    cn_deprecated(self, MP_APLOGNO(0701)
                  "conn.remote_addr is deprecated, use conn.client_addr");
    return cn_client_addr(self);
}

static PyObject *cn_remote_ip(mp_conn *self)
{
    cn_deprecated(self, MP_APLOGNO(0702)
                  "conn.remote_ip is deprecated, use conn.client_ip");
    return mp_str(self->c->client_ip);
}

static PyObject *cn_aborted(mp_conn *self) { return PyLong_FromLong((long)self->c->aborted); }
static PyObject *cn_double_reverse(mp_conn *self)
{
    return PyLong_FromLong((long)self->c->double_reverse);
}
static PyObject *cn_keepalive(mp_conn *self) { return PyLong_FromLong((long)self->c->keepalive); }

static PyObject *cn_notes(mp_conn *self)
{
    if (self->notes == NULL) {
        self->notes = mp_table_wrap(self->c->notes, (PyObject *)self);
        if (self->notes == NULL)
            return NULL;
    }
    Py_INCREF(self->notes);
    return self->notes;
}

static PyObject *cn_hlist(mp_conn *self)
{
    if (self->hlist == NULL)
        Py_RETURN_NONE;
    Py_INCREF(self->hlist);
    return self->hlist;
}

static PyObject *cn_capsule(mp_conn *self) { return PyCapsule_New(self->c, NULL, NULL); }

#define CNF(kind, field) {kind, offsetof(conn_rec, field), NULL}
#define CNFN(fn) {CN_FUNC, 0, fn}

enum {
    CA_BASE_SERVER, CA_LOCAL_ADDR, CA_CLIENT_ADDR, CA_REMOTE_ADDR, CA_CLIENT_IP,
    CA_REMOTE_IP, CA_REMOTE_HOST, CA_REMOTE_LOGNAME, CA_ABORTED, CA_KEEPALIVE,
    CA_DOUBLE_REVERSE, CA_KEEPALIVES, CA_LOCAL_IP, CA_LOCAL_HOST, CA_ID,
    CA_NOTES, CA_HLIST, CA_CAPSULE, CA_COUNT
};

static const cn_attr cn_attrs[CA_COUNT] = {
    [CA_BASE_SERVER]    = CNFN(cn_base_server),
    [CA_LOCAL_ADDR]     = CNFN(cn_local_addr),
    [CA_CLIENT_ADDR]    = CNFN(cn_client_addr),
    [CA_REMOTE_ADDR]    = CNFN(cn_remote_addr),
    [CA_CLIENT_IP]      = CNF(CN_STR, client_ip),
    [CA_REMOTE_IP]      = CNFN(cn_remote_ip),
    [CA_REMOTE_HOST]    = CNF(CN_STR, remote_host),
    [CA_REMOTE_LOGNAME] = CNF(CN_STR, remote_logname),
    [CA_ABORTED]        = CNFN(cn_aborted),
    [CA_KEEPALIVE]      = CNFN(cn_keepalive),
    [CA_DOUBLE_REVERSE] = CNFN(cn_double_reverse),
    [CA_KEEPALIVES]     = CNF(CN_INT, keepalives),
    [CA_LOCAL_IP]       = CNF(CN_STR, local_ip),
    [CA_LOCAL_HOST]     = CNF(CN_STR, local_host),
    [CA_ID]             = CNF(CN_LONG, id),
    [CA_NOTES]          = CNFN(cn_notes),
    [CA_HLIST]          = CNFN(cn_hlist),
    [CA_CAPSULE]        = CNFN(cn_capsule),
};

static PyObject *conn_getter(PyObject *o, void *closure)
{
    mp_conn *self = (mp_conn *)o;
    const cn_attr *a = (const cn_attr *)closure;
    const char *base;

    CONN_CHECK(self, NULL);
    base = (const char *)self->c + a->offset;
    switch (a->kind) {
    case CN_STR:
        return mp_str(*(const char *const *)base);
    case CN_INT:
        return PyLong_FromLong(*(const int *)base);
    case CN_LONG:
        return PyLong_FromLong(*(const long *)base);
    case CN_FUNC:
    default:
        return a->fn(self);
    }
}

static int conn_set_keepalive(PyObject *o, PyObject *v, void *closure)
{
    mp_conn *self = (mp_conn *)o;
    long val;
    (void)closure;

    if (v == NULL) {
        PyErr_SetString(PyExc_AttributeError, "can't delete connection attributes");
        return -1;
    }
    CONN_CHECK(self, -1);
    if (!PyLong_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "keepalive must be an integer");
        return -1;
    }
    val = PyLong_AsLong(v);
    if (val == -1 && PyErr_Occurred())
        return -1;
    self->c->keepalive = (ap_conn_keepalive_e)val;
    return 0;
}

#define CN_GETSET(nm, id, dc) \
    {.name = nm, .get = conn_getter, .set = NULL, .doc = dc, \
     .closure = (void *)&cn_attrs[id]}

static PyGetSetDef conn_getset[] = {
    CN_GETSET("base_server", CA_BASE_SERVER, "server matched by the connection's address"),
    CN_GETSET("local_addr", CA_LOCAL_ADDR, "(ip, port) of the local end"),
    CN_GETSET("client_addr", CA_CLIENT_ADDR, "(ip, port) of the client"),
    CN_GETSET("remote_addr", CA_REMOTE_ADDR, "deprecated alias of client_addr"),
    CN_GETSET("client_ip", CA_CLIENT_IP, "client IP address"),
    CN_GETSET("remote_ip", CA_REMOTE_IP, "deprecated alias of client_ip"),
    CN_GETSET("remote_host", CA_REMOTE_HOST, "client DNS name if looked up"),
    CN_GETSET("remote_logname", CA_REMOTE_LOGNAME, "ident user name"),
    CN_GETSET("aborted", CA_ABORTED, "the connection was aborted"),
    {.name = "keepalive", .get = conn_getter, .set = conn_set_keepalive,
     .doc = "AP_CONN_* keep-alive state (writable)", .closure = (void *)&cn_attrs[CA_KEEPALIVE]},
    CN_GETSET("double_reverse", CA_DOUBLE_REVERSE, "double reverse DNS state"),
    CN_GETSET("keepalives", CA_KEEPALIVES, "requests served on this connection"),
    CN_GETSET("local_ip", CA_LOCAL_IP, "server IP address"),
    CN_GETSET("local_host", CA_LOCAL_HOST, "server host name"),
    CN_GETSET("id", CA_ID, "connection id"),
    CN_GETSET("notes", CA_NOTES, "connection notes table"),
    CN_GETSET("hlist", CA_HLIST, "handler list (connection handlers only)"),
    CN_GETSET("_conn_rec", CA_CAPSULE, "raw conn_rec pointer"),
    {NULL, NULL, NULL, NULL, NULL}
};

static int conn_setattro(PyObject *o, PyObject *name, PyObject *v)
{
    if (v == NULL) {
        PyErr_SetString(PyExc_AttributeError, "can't delete connection attributes");
        return -1;
    }
    return PyObject_GenericSetAttr(o, name, v);
}

/* ------------------------------------------------------------------ */
/* I/O                                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    char *buf;
    apr_size_t len, cap;
} cn_buf;

static int cn_buf_add(cn_buf *b, const char *data, apr_size_t n)
{
    if (b->len + n > b->cap) {
        apr_size_t cap = b->cap ? b->cap : HUGE_STRING_LEN;
        char *nb;
        while (cap < b->len + n)
            cap *= 2;
        nb = realloc(b->buf, cap);
        if (nb == NULL)
            return -1;
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    return 0;
}

/*
 * Read from the connection's input filters into out; runs WITHOUT the GIL.
 * len > 0: at most len bytes (whatever is available, at least one byte);
 * len == 0: whatever one read returns; EXHAUSTIVE: everything until the
 * peer closes; GETLINE: up to and including '\n' (at most len if > 0).
 * Input beyond what is returned stays in self->bb_in for the next call.
 * *eos is set when the stream ended before any byte was read.
 */
static apr_status_t conn_do_read(mp_conn *self, ap_input_mode_t mode, apr_off_t len,
                                 cn_buf *out, int *eos)
{
    conn_rec *c = self->c;
    apr_bucket_brigade *bb = self->bb_in;
    apr_bucket *b;
    apr_status_t rv;
    const char *data;
    apr_size_t n, take;

    *eos = 0;
    for (;;) {
        if (APR_BRIGADE_EMPTY(bb)) {
            apr_off_t want = len > 0 ? len - (apr_off_t)out->len : HUGE_STRING_LEN;
            if (out->len > 0 && mode == AP_MODE_READBYTES)
                return APR_SUCCESS;         /* have data: do not wait for more */
            rv = ap_get_brigade(c->input_filters, bb, mode, APR_BLOCK_READ, want);
            if (rv == APR_EOF || (rv == APR_SUCCESS && APR_BRIGADE_EMPTY(bb))) {
                *eos = out->len == 0;
                return APR_SUCCESS;
            }
            if (rv != APR_SUCCESS)
                return rv;
        }
        b = APR_BRIGADE_FIRST(bb);
        if (APR_BUCKET_IS_EOS(b)) {
            if (out->len == 0) {
                apr_bucket_delete(b);
                *eos = 1;
            }
            return APR_SUCCESS;             /* else the EOS waits for the next call */
        }
        if (APR_BUCKET_IS_FLUSH(b)) {
            apr_bucket_delete(b);
            if (out->len > 0 && mode != AP_MODE_EXHAUSTIVE)
                return APR_SUCCESS;
            continue;
        }
        if (APR_BUCKET_IS_METADATA(b)) {
            apr_bucket_delete(b);
            continue;
        }
        rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ);
        if (rv != APR_SUCCESS)
            return rv;
        if (n == 0) {
            apr_bucket_delete(b);
            continue;
        }
        take = n;
        if (len > 0 && (apr_off_t)(out->len + take) > len)
            take = (apr_size_t)(len - (apr_off_t)out->len);
        if (mode == AP_MODE_GETLINE) {
            const char *nl = memchr(data, '\n', take);
            if (nl != NULL)
                take = (apr_size_t)(nl - data) + 1;
        }
        if (take < n)
            apr_bucket_split(b, take);
        if (cn_buf_add(out, data, take) < 0)
            return APR_ENOMEM;
        apr_bucket_delete(b);
        if (len > 0 && (apr_off_t)out->len >= len)
            return APR_SUCCESS;
        if (mode == AP_MODE_GETLINE && out->buf[out->len - 1] == '\n')
            return APR_SUCCESS;
    }
}

static PyObject *conn_read_mode(mp_conn *self, ap_input_mode_t mode, long len)
{
    cn_buf out = {NULL, 0, 0};
    apr_status_t rv;
    int eos = 0;
    PyObject *res;

    CONN_CHECK(self, NULL);
    if (self->bb_in == NULL)
        self->bb_in = apr_brigade_create(self->c->pool, self->c->bucket_alloc);

    MP_BEGIN_BLOCKING
    rv = conn_do_read(self, mode, (apr_off_t)len, &out, &eos);
    MP_END_BLOCKING

    if (rv != APR_SUCCESS) {
        free(out.buf);
        PyErr_SetString(PyExc_IOError, "Connection read error");
        return NULL;
    }
    if (eos) {
        free(out.buf);
        Py_RETURN_NONE;
    }
    res = PyBytes_FromStringAndSize(out.buf ? out.buf : "", (Py_ssize_t)out.len);
    free(out.buf);
    return res;
}

static PyObject *conn_read(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"len", NULL};
    long len = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "|l:read", kwlist, &len))
        return NULL;
    if (len == -1)
        return conn_read_mode((mp_conn *)o, AP_MODE_EXHAUSTIVE, 0);
    if (len < 0) {
        PyErr_SetString(PyExc_ValueError, "read() length must be -1, 0 or positive");
        return NULL;
    }
    return conn_read_mode((mp_conn *)o, AP_MODE_READBYTES, len);
}

static PyObject *conn_readline(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"len", NULL};
    long len = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "|l:readline", kwlist, &len))
        return NULL;
    if (len < 0)
        len = 0;
    return conn_read_mode((mp_conn *)o, AP_MODE_GETLINE, len);
}

static PyObject *conn_write(PyObject *o, PyObject *arg)
{
    mp_conn *self = (mp_conn *)o;
    conn_rec *c;
    Py_buffer view;
    const char *data;
    Py_ssize_t n;
    int have_view = 0;
    apr_status_t rv;

    CONN_CHECK(self, NULL);
    c = self->c;
    if (PyUnicode_Check(arg)) {
        data = PyUnicode_AsUTF8AndSize(arg, &n);
        if (data == NULL)
            return NULL;
    } else {
        if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
            return NULL;
        have_view = 1;
        data = view.buf;
        n = view.len;
    }
    if (n == 0) {
        if (have_view)
            PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    if (self->bb_out == NULL)
        self->bb_out = apr_brigade_create(c->pool, c->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(self->bb_out,
                            apr_bucket_transient_create(data, (apr_size_t)n, c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(self->bb_out, apr_bucket_flush_create(c->bucket_alloc));

    /* `data` stays valid: we hold arg (and the buffer view) throughout */
    MP_BEGIN_BLOCKING
    rv = ap_pass_brigade(c->output_filters, self->bb_out);
    apr_brigade_cleanup(self->bb_out);
    MP_END_BLOCKING

    if (have_view)
        PyBuffer_Release(&view);
    if (rv != APR_SUCCESS) {
        PyErr_SetString(PyExc_IOError, "Connection write error");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *conn_log_error(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"message", "level", NULL};
    mp_conn *self = (mp_conn *)o;
    PyObject *msg;
    int level = APLOG_ERR, none;
    const char *text;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|i:log_error", kwlist, &msg, &level))
        return NULL;
    CONN_CHECK(self, NULL);
    text = mp_server_log_text(msg, &none);
    if (text == NULL) {
        if (none)
            Py_RETURN_NONE;
        return NULL;
    }
    mp_log_message(NULL, self->c, NULL, level, text, 1);
    Py_RETURN_NONE;
}

#define KWFN(f) ((PyCFunction)(void (*)(void))(f))

static PyMethodDef conn_methods[] = {
    {"log_error", KWFN(conn_log_error), METH_VARARGS | METH_KEYWORDS,
     "log_error(message, level=APLOG_ERR)"},
    {"read", KWFN(conn_read), METH_VARARGS | METH_KEYWORDS,
     "read(len=0): bytes from the connection; None at end of stream."},
    {"readline", KWFN(conn_readline), METH_VARARGS | METH_KEYWORDS,
     "readline(len=0): one line; None at end of stream."},
    {"write", conn_write, METH_O, "write(data): send data and flush."},
    {NULL, NULL, 0, NULL}
};

/* ------------------------------------------------------------------ */
/* type                                                                */
/* ------------------------------------------------------------------ */

static int conn_traverse(PyObject *o, visitproc visit, void *arg)
{
    mp_conn *self = (mp_conn *)o;
    Py_VISIT(self->base_server);
    Py_VISIT(self->notes);
    Py_VISIT(self->hlist);
    return 0;
}

static int conn_clear(PyObject *o)
{
    mp_conn *self = (mp_conn *)o;
    Py_CLEAR(self->base_server);
    Py_CLEAR(self->notes);
    Py_CLEAR(self->hlist);
    return 0;
}

static void conn_dealloc(PyObject *o)
{
    mp_conn *self = (mp_conn *)o;

    PyObject_GC_UnTrack(o);
    /* `dead` may also be set by the owner (end of a connection handler);
     * the cleanup is still registered then and must go */
    if (self->cleanup_pool != NULL)
        apr_pool_cleanup_kill(self->cleanup_pool, self, conn_pool_gone);
    conn_clear(o);
    PyObject_GC_Del(o);
}

PyTypeObject MpConn_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mp_conn",
    .tp_doc = "An httpd connection (conn_rec).",
    .tp_basicsize = sizeof(mp_conn),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = conn_dealloc,
    .tp_traverse = conn_traverse,
    .tp_clear = conn_clear,
    .tp_setattro = conn_setattro,
    .tp_methods = conn_methods,
    .tp_getset = conn_getset,
};

int mp_conn_type_init(void)
{
    return PyType_Ready(&MpConn_Type);
}

PyObject *mp_conn_new(conn_rec *c, PyObject *hlist)
{
    mp_conn *self;

    if (c == NULL)
        Py_RETURN_NONE;
    self = PyObject_GC_New(mp_conn, &MpConn_Type);
    if (self == NULL)
        return NULL;
    self->dead = 0;
    self->c = c;
    self->base_server = NULL;
    self->notes = NULL;
    Py_XINCREF(hlist);
    self->hlist = hlist;
    self->bb_in = NULL;
    self->bb_out = NULL;
    self->cleanup_pool = c->pool;
    apr_pool_cleanup_register(c->pool, self, conn_pool_gone, apr_pool_cleanup_null);
    PyObject_GC_Track(self);
    return (PyObject *)self;
}
