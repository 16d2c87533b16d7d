/*
 * filterobj.c - the mp_filter object (mod_python 3.5 manual: "Filter Object
 * (mp_filter)"): one object per invocation of a Python filter (or per SSI #python
 * element), wrapping the brigades of that invocation.
 *
 * Ownership rules:
 *  - write() copies the caller's bytes into heap buckets; nothing keeps a
 *    pointer into a Python buffer.
 *  - The brigades belong to httpd (or to filter.c's per-instance state).
 *    filter.c calls mp_filter_invalidate() when the invocation is over;
 *    from then on every method and attribute raises.
 *  - Every call that can block (ap_get_brigade, ap_pass_brigade, reading a
 *    file/pipe bucket) runs with the GIL released (MP_BEGIN_BLOCKING).
 */
#include "mp_common.h"
#include "mp_filterobj.h"
#include "mp_interp.h"
#include "mp_util.h"

/* Output: written data is passed on (without FLUSH) once this much is
 * pending, so a filter that writes a lot before flushing stays bounded. */
#define MP_FILTER_PASS_THRESHOLD (256 * 1024)
/* Initial size of the result buffer of read(-1)/readline(-1). */
#define MP_FILTER_READ_CHUNK 8192

static apr_pool_t *filter_pool(mp_filter *self)
{
    return self->f->r ? self->f->r->pool : self->f->c->pool;
}

static apr_bucket_alloc_t *filter_ba(mp_filter *self)
{
    return self->f->c->bucket_alloc;
}

static apr_bucket_brigade *ensure_bb_out(mp_filter *self)
{
    if (!self->bb_out)
        self->bb_out = apr_brigade_create(filter_pool(self), filter_ba(self));
    return self->bb_out;
}

static int check_alive(mp_filter *self)
{
    if (self->dead || !self->f) {
        mp_err_dead("filter");
        return 0;
    }
    return 1;
}

static int check_open(mp_filter *self)
{
    if (!check_alive(self))
        return 0;
    if (self->closed) {
        PyErr_SetString(PyExc_ValueError, "I/O operation on closed filter");
        return 0;
    }
    return 1;
}

int mp_brigade_has_eos(apr_bucket_brigade *bb)
{
    apr_bucket *b;
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        if (APR_BUCKET_IS_EOS(b))
            return 1;
    }
    return 0;
}

/* Output filters: pass bb to f->next with the GIL released and empty it
 * afterwards (GIL held on entry).  Stores and returns the status. */
static apr_status_t filter_pass(mp_filter *self, apr_bucket_brigade *bb)
{
    apr_status_t rv;
    ap_filter_t *next = self->f->next;
    int eos = mp_brigade_has_eos(bb);

    MP_BEGIN_BLOCKING
    rv = ap_pass_brigade(next, bb);
    apr_brigade_cleanup(bb);
    MP_END_BLOCKING
    self->rc = rv;
    if (eos)
        self->eos_passed = 1;
    if (bb == self->bb_out)
        self->out_pending = 0;
    return rv;
}

/* Fetch from the next input filter into bb (GIL released). */
static apr_status_t input_fetch(mp_filter *self, apr_bucket_brigade *bb)
{
    apr_status_t rv;
    ap_filter_t *next = self->f->next;
    ap_input_mode_t mode = self->mode;
    apr_off_t readbytes = self->readbytes;

    MP_BEGIN_BLOCKING
    rv = ap_get_brigade(next, bb, mode, APR_BLOCK_READ, readbytes);
    MP_END_BLOCKING
    self->rc = rv;
    return rv;
}

/* Read a bucket's data; buckets not already in memory (file, pipe,
 * socket...) are read with the GIL released. */
static apr_status_t bucket_read(apr_bucket *b, const char **data, apr_size_t *len)
{
    apr_status_t rv;

    if (APR_BUCKET_IS_HEAP(b) || APR_BUCKET_IS_TRANSIENT(b)
        || APR_BUCKET_IS_POOL(b) || APR_BUCKET_IS_IMMORTAL(b)
        || APR_BUCKET_IS_METADATA(b))
        return apr_bucket_read(b, data, len, APR_BLOCK_READ);
    MP_BEGIN_BLOCKING
    rv = apr_bucket_read(b, data, len, APR_BLOCK_READ);
    MP_END_BLOCKING
    return rv;
}

/* Grow-able result buffer for read()/readline(). */
typedef struct {
    PyObject *bytes;
    Py_ssize_t used;
} rbuf_t;

static int rbuf_append(rbuf_t *rb, const char *data, apr_size_t n)
{
    Py_ssize_t cap = rb->bytes ? PyBytes_GET_SIZE(rb->bytes) : 0;

    if (rb->used + (Py_ssize_t)n > cap) {
        Py_ssize_t want = cap ? cap : MP_FILTER_READ_CHUNK;
        while (want < rb->used + (Py_ssize_t)n)
            want *= 2;
        if (!rb->bytes) {
            rb->bytes = PyBytes_FromStringAndSize(NULL, want);
            if (!rb->bytes)
                return -1;
        }
        else if (_PyBytes_Resize(&rb->bytes, want) < 0) {
            return -1;       /* rb->bytes was released and set to NULL */
        }
    }
    memcpy(PyBytes_AS_STRING(rb->bytes) + rb->used, data, n);
    rb->used += (Py_ssize_t)n;
    return 0;
}

static PyObject *rbuf_finish(rbuf_t *rb)
{
    if (!rb->bytes)
        return PyBytes_FromStringAndSize("", 0);
    if (PyBytes_GET_SIZE(rb->bytes) != rb->used
        && _PyBytes_Resize(&rb->bytes, rb->used) < 0)
        return NULL;
    return rb->bytes;
}

/* The brigade read() takes data from; input filters fetch when empty.
 * NULL (with an exception) on a fetch error; may return NULL without an
 * exception when there is no source (SSI objects). */
static apr_bucket_brigade *read_source(mp_filter *self)
{
    if (!self->is_input)
        return self->bb_in;
    if (!self->bb_in)
        self->bb_in = apr_brigade_create(filter_pool(self), filter_ba(self));
    if (APR_BRIGADE_EMPTY(self->bb_in)) {
        apr_status_t rv = input_fetch(self, self->bb_in);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_EAGAIN(rv)) {
            PyErr_SetString(PyExc_IOError, "Input filter read error");
            return NULL;
        }
    }
    return self->bb_in;
}

/* Copy up to `len` bytes (len < 0: all available) from the source brigade,
 * stopping at FLUSH/EOS/end, or after the first newline when readline. */
static PyObject *filter_read_common(mp_filter *self, PyObject *args, int readline)
{
    Py_ssize_t len = -1;
    apr_bucket_brigade *bb;
    apr_bucket *b;
    rbuf_t rb = {NULL, 0};
    int done = 0;

    if (!PyArg_ParseTuple(args, readline ? "|n:readline" : "|n:read", &len))
        return NULL;
    if (!check_open(self))
        return NULL;
    bb = read_source(self);
    if (!bb) {
        if (PyErr_Occurred())
            return NULL;
        return PyBytes_FromStringAndSize("", 0);
    }
    /* leading FLUSH buckets carry nothing for us: our own flush follows */
    while (!APR_BRIGADE_EMPTY(bb) && APR_BUCKET_IS_FLUSH(APR_BRIGADE_FIRST(bb)))
        apr_bucket_delete(APR_BRIGADE_FIRST(bb));
    if (!APR_BRIGADE_EMPTY(bb) && APR_BUCKET_IS_EOS(APR_BRIGADE_FIRST(bb))) {
        apr_bucket_delete(APR_BRIGADE_FIRST(bb));
        self->eos_seen = 1;
        Py_RETURN_NONE;
    }
    while (!done && len != 0) {
        const char *data;
        apr_size_t n;
        apr_status_t rv;

        b = APR_BRIGADE_FIRST(bb);
        if (b == APR_BRIGADE_SENTINEL(bb) || APR_BUCKET_IS_EOS(b)
            || APR_BUCKET_IS_FLUSH(b))
            break;
        if (APR_BUCKET_IS_METADATA(b)) {
            apr_bucket_delete(b);
            continue;
        }
        rv = bucket_read(b, &data, &n);
        if (rv != APR_SUCCESS) {
            Py_XDECREF(rb.bytes);
            self->rc = rv;
            PyErr_SetString(PyExc_IOError, self->is_input ? "Input filter read error"
                                                          : "Filter read error");
            return NULL;
        }
        if (len >= 0 && (Py_ssize_t)n > len - rb.used) {
            apr_bucket_split(b, (apr_size_t)(len - rb.used));
            n = (apr_size_t)(len - rb.used);
        }
        if (readline) {
            const char *nl = memchr(data, '\n', n);
            if (nl) {
                apr_size_t upto = (apr_size_t)(nl - data) + 1;
                if (upto < n)
                    apr_bucket_split(b, upto);
                n = upto;
                done = 1;
            }
        }
        if (rbuf_append(&rb, data, n) < 0) {
            Py_XDECREF(rb.bytes);
            return NULL;
        }
        apr_bucket_delete(b);
        if (len >= 0 && rb.used >= len)
            done = 1;
    }
    return rbuf_finish(&rb);
}

static PyObject *filter_read(PyObject *self, PyObject *args)
{
    return filter_read_common((mp_filter *)self, args, 0);
}

static PyObject *filter_readline(PyObject *self, PyObject *args)
{
    return filter_read_common((mp_filter *)self, args, 1);
}

static PyObject *filter_write(PyObject *o, PyObject *arg)
{
    mp_filter *self = (mp_filter *)o;
    Py_buffer view;
    apr_bucket *b;

    if (!check_open(self))
        return NULL;
    if (PyUnicode_Check(arg)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(arg, &n);
        if (!s)
            return NULL;
        if (n == 0)
            Py_RETURN_NONE;
        /* NULL free function: APR copies the data into a heap bucket */
        b = apr_bucket_heap_create(s, (apr_size_t)n, NULL, filter_ba(self));
        self->out_pending += n;
    }
    else {
        if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
            PyErr_Format(PyExc_TypeError,
                         "write() argument must be str or bytes, not %.100s",
                         Py_TYPE(arg)->tp_name);
            return NULL;
        }
        if (view.len == 0) {
            PyBuffer_Release(&view);
            Py_RETURN_NONE;
        }
        b = apr_bucket_heap_create(view.buf, (apr_size_t)view.len, NULL,
                                   filter_ba(self));
        self->out_pending += view.len;
        PyBuffer_Release(&view);
    }
    APR_BRIGADE_INSERT_TAIL(ensure_bb_out(self), b);

    if (!self->is_input && self->out_pending >= MP_FILTER_PASS_THRESHOLD) {
        if (filter_pass(self, self->bb_out) != APR_SUCCESS) {
            PyErr_SetString(PyExc_IOError, "Write failed.");
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *filter_flush(PyObject *o, PyObject *noargs)
{
    mp_filter *self = (mp_filter *)o;
    apr_bucket_brigade *out;
    (void)noargs;

    if (!check_alive(self))
        return NULL;
    if (self->eos_passed)          /* nothing may follow an EOS */
        Py_RETURN_NONE;
    out = ensure_bb_out(self);
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_flush_create(filter_ba(self)));
    if (!self->is_input && filter_pass(self, out) != APR_SUCCESS) {
        PyErr_SetString(PyExc_IOError, "Flush failed.");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *filter_close(PyObject *o, PyObject *noargs)
{
    mp_filter *self = (mp_filter *)o;
    apr_bucket_brigade *out;
    (void)noargs;

    if (!check_alive(self))
        return NULL;
    if (self->closed)
        Py_RETURN_NONE;
    self->closed = 1;
    if (self->eos_passed)
        Py_RETURN_NONE;
    out = ensure_bb_out(self);
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_eos_create(filter_ba(self)));
    if (!self->is_input && filter_pass(self, out) != APR_SUCCESS) {
        PyErr_SetString(PyExc_IOError, "Close failed.");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *filter_pass_on(PyObject *o, PyObject *noargs)
{
    mp_filter *self = (mp_filter *)o;
    apr_status_t rv;
    (void)noargs;

    if (!check_open(self))
        return NULL;
    if (self->is_input) {
        apr_bucket_brigade *out = ensure_bb_out(self);
        if (self->bb_in && !APR_BRIGADE_EMPTY(self->bb_in)) {
            APR_BRIGADE_CONCAT(out, self->bb_in);
            rv = APR_SUCCESS;
        }
        else {
            rv = input_fetch(self, out);
        }
        if (rv != APR_SUCCESS && !APR_STATUS_IS_EAGAIN(rv)) {
            PyErr_SetString(PyExc_IOError, "Input filter read error");
            return NULL;
        }
        if (mp_brigade_has_eos(out))
            self->closed = 1;
        Py_RETURN_NONE;
    }
    if (!self->bb_in || APR_BRIGADE_EMPTY(self->bb_in))
        Py_RETURN_NONE;
    if (self->eos_passed) {        /* nothing may follow an EOS */
        apr_brigade_cleanup(self->bb_in);
        Py_RETURN_NONE;
    }
    if (self->bb_out && !APR_BRIGADE_EMPTY(self->bb_out)) {
        APR_BRIGADE_CONCAT(self->bb_out, self->bb_in);
        rv = filter_pass(self, self->bb_out);
    }
    else {
        rv = filter_pass(self, self->bb_in);
    }
    if (self->eos_passed)
        self->closed = 1;
    if (rv != APR_SUCCESS) {
        PyErr_SetString(PyExc_IOError, "Filter pass_on failed.");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *filter_disable(PyObject *o, PyObject *noargs)
{
    mp_filter *self = (mp_filter *)o;
    (void)noargs;

    if (!check_alive(self))
        return NULL;
    self->disabled = 1;     /* filter.c makes the instance transparent */
    Py_RETURN_NONE;
}

static PyMethodDef filter_methods[] = {
    {"read", filter_read, METH_VARARGS,
     "read([len]) -> bytes, or None at end of stream"},
    {"readline", filter_readline, METH_VARARGS,
     "readline([len]) -> bytes up to and including a newline"},
    {"write", filter_write, METH_O, "write(data): queue str/bytes for the next filter"},
    {"flush", filter_flush, METH_NOARGS, "flush(): pass queued data on"},
    {"close", filter_close, METH_NOARGS, "close(): send end of stream"},
    {"pass_on", filter_pass_on, METH_NOARGS, "pass_on(): pass data through unchanged"},
    {"disable", filter_disable, METH_NOARGS,
     "disable(): pass data through without Python for the rest of the request"},
    {NULL, NULL, 0, NULL}
};

/* ---- attributes ---- */

static PyObject *get_closed(PyObject *o, void *c)
{
    mp_filter *self = (mp_filter *)o;
    (void)c;
    if (!check_alive(self))
        return NULL;
    return PyLong_FromLong(self->closed);
}

static PyObject *get_name(PyObject *o, void *c)
{
    mp_filter *self = (mp_filter *)o;
    (void)c;
    if (!check_alive(self))
        return NULL;
    if (!self->f->frec || !self->f->frec->name)
        Py_RETURN_NONE;
    return mp_str(self->f->frec->name);
}

static PyObject *get_req(PyObject *o, void *c)
{
    mp_filter *self = (mp_filter *)o;
    (void)c;
    if (!check_alive(self))
        return NULL;
    if (!self->req)
        Py_RETURN_NONE;
    Py_INCREF(self->req);
    return self->req;
}

static PyObject *get_is_input(PyObject *o, void *c)
{
    mp_filter *self = (mp_filter *)o;
    (void)c;
    if (!check_alive(self))
        return NULL;
    return PyLong_FromLong(self->is_input);
}

static PyObject *get_handler(PyObject *o, void *c)
{
    mp_filter *self = (mp_filter *)o;
    (void)c;
    if (!check_alive(self))
        return NULL;
    return mp_str(self->handler);
}

static PyObject *get_dir(PyObject *o, void *c)
{
    mp_filter *self = (mp_filter *)o;
    (void)c;
    if (!check_alive(self))
        return NULL;
    return mp_str(self->dir);
}

static PyObject *get_softspace(PyObject *o, void *c)
{
    mp_filter *self = (mp_filter *)o;
    (void)c;
    if (!check_alive(self))
        return NULL;
    return PyLong_FromLong(self->softspace);
}

static int set_softspace(PyObject *o, PyObject *v, void *c)
{
    mp_filter *self = (mp_filter *)o;
    long n;
    (void)c;
    if (!check_alive(self))
        return -1;
    n = PyLong_AsLong(v);
    if (n == -1 && PyErr_Occurred())
        return -1;
    self->softspace = (int)n;
    return 0;
}

static PyGetSetDef filter_getset[] = {
    {"closed", get_closed, NULL, "1 after close()", NULL},
    {"name", get_name, NULL, "registered filter name (lower case)", NULL},
    {"req", get_req, NULL, "the request object", NULL},
    {"is_input", get_is_input, NULL, "1 for input filters", NULL},
    {"handler", get_handler, NULL, "handler string of the filter", NULL},
    {"dir", get_dir, NULL, "directory of the filter directive", NULL},
    {"softspace", get_softspace, set_softspace, "obsolete print support", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static int filter_setattro(PyObject *o, PyObject *name, PyObject *v)
{
    if (v == NULL) {
        PyErr_SetString(PyExc_AttributeError, "can't delete filter attributes");
        return -1;
    }
    return PyObject_GenericSetAttr(o, name, v);
}

static void filter_dealloc(PyObject *o)
{
    mp_filter *self = (mp_filter *)o;
    Py_CLEAR(self->req);
    Py_TYPE(o)->tp_free(o);
}

static PyObject *filter_repr(PyObject *o)
{
    mp_filter *self = (mp_filter *)o;
    const char *name = (!self->dead && self->f && self->f->frec && self->f->frec->name)
                       ? self->f->frec->name : "?";
    return PyUnicode_FromFormat("<mp_filter %s%s%s at %p>", name,
                                self->is_input ? " (input)" : "",
                                self->dead ? " (finished)" : "", o);
}

PyTypeObject MpFilter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mp_filter",
    .tp_basicsize = sizeof(mp_filter),
    .tp_dealloc = filter_dealloc,
    .tp_repr = filter_repr,
    .tp_getattro = PyObject_GenericGetAttr,
    .tp_setattro = filter_setattro,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A Python filter at work (one per call): read() what arrived, "
              "write() what passes on, close() at the end of the stream.",
    .tp_methods = filter_methods,
    .tp_getset = filter_getset,
};

int mp_filter_type_init(void)
{
    static int ready = 0;
    if (ready)
        return 0;
    if (PyType_Ready(&MpFilter_Type) < 0)
        return -1;
    ready = 1;
    return 0;
}

PyObject *mp_filter_new(ap_filter_t *f, apr_bucket_brigade *bb, int is_input,
                        ap_input_mode_t mode, apr_read_type_e block,
                        apr_off_t readbytes, const char *handler,
                        const char *dir, PyObject *req)
{
    mp_filter *self;

    if (mp_filter_type_init() < 0)
        return NULL;
    self = PyObject_New(mp_filter, &MpFilter_Type);
    if (!self)
        return NULL;
    self->dead = 0;
    self->f = f;
    self->is_input = is_input;
    if (is_input) {
        self->bb_in = NULL;
        self->bb_out = bb;
    }
    else {
        self->bb_in = bb;
        self->bb_out = NULL;
    }
    self->mode = mode;
    self->block = block;
    self->readbytes = readbytes;
    self->rc = APR_SUCCESS;
    self->closed = 0;
    self->softspace = 0;
    self->disabled = 0;
    self->handler = handler;
    self->dir = dir;
    self->req = (req && req != Py_None) ? req : NULL;
    Py_XINCREF(self->req);
    self->eos_seen = 0;
    self->eos_passed = 0;
    self->out_pending = 0;
    return (PyObject *)self;
}

void mp_filter_invalidate(PyObject *o)
{
    mp_filter *self;

    if (!o || !mp_filter_check(o))
        return;
    self = (mp_filter *)o;
    self->dead = 1;
    self->f = NULL;
    self->bb_in = NULL;
    self->bb_out = NULL;
    self->handler = NULL;
    self->dir = NULL;
    Py_CLEAR(self->req);
}
