/*
 * request_io.c - mp_request body input and response output:
 * read, readline, readlines, write, flush, sendfile.
 *
 * The body is read from r->input_filters into a brigade of our own (not
 * ap_get_client_block(), which throws the filter's error status away), with
 * the GIL released while waiting for the client.  readline() keeps what it
 * read beyond the line in a buffer that every later read consumes first, so
 * unlike 3.5 no byte is lost between readline() and read(), and readlines()
 * reads whole lines whatever its size hint.  Memory grows only with the data
 * actually received; LimitRequestBody is enforced (413).  A body that
 * cannot be read raises the status httpd maps the failure to (400, 408, 413)
 * as a SERVER_RETURN that is also an OSError (_apache.RequestBodyError).
 */
#include "mp_common.h"
#include "mp_request.h"
#include "mp_interp.h"

#define MP_LINE_BLOCK   8192            /* readline() reads at least this much */
#define MP_READ_BLOCK   (64 * 1024)     /* first buffer of read(-1) for unknown sizes */
#define MP_READ_MAXHINT (1024 * 1024)   /* never pre-allocate more than this */
#define MP_MAX_EMPTY    100             /* data-less brigades in a row = broken filter */
#define MP_WRITE_MAX    (1 << 30)       /* ap_rwrite() takes an int length */

void mp_request_io_free(mp_request *self)
{
    free(self->rbuf);
    self->rbuf = NULL;
    self->rbuf_size = self->rbuf_pos = self->rbuf_len = 0;
}

/* --------------------------------------------------------- body input */

/* Every body access starts here: refuses while another thread waits for
 * body data (it owns our buffer), then on first use runs httpd's checks
 * (Transfer-Encoding, Content-Length, LimitRequestBody).
 * 0 = ready, -1 = exception set (RuntimeError or SERVER_RETURN). */
static int body_setup(mp_request *self, request_rec *r)
{
    apr_off_t limit;
    int rc;

    if (self->io_busy) {
        /* another thread is blocked filling our buffer */
        PyErr_SetString(PyExc_RuntimeError,
                        "request body is being read by another thread");
        return -1;
    }
    if (self->read_setup)
        return 0;
    rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rc != OK) {
        mp_raise_server_return(rc);
        return -1;
    }
    limit = ap_get_limit_req_body(r);
    if (!r->read_chunked && limit > 0 && r->remaining > limit) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0500)
                      "Request body of %" APR_OFF_T_FMT " bytes exceeds "
                      "LimitRequestBody %" APR_OFF_T_FMT, r->remaining, limit);
        r->connection->keepalive = AP_CONN_CLOSE;
        mp_raise_server_return(HTTP_REQUEST_ENTITY_TOO_LARGE);
        return -1;
    }
    self->body_eof = !ap_should_client_block(r);
    self->bb_in = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    self->read_setup = 1;
    return 0;
}

/* Without the GIL: move up to `want` bytes of body into buf.  Data beyond
 * `want` (a filter returning more than asked) stays in bb for next time. */
static apr_status_t pull_body(request_rec *r, apr_bucket_brigade *bb, char *buf,
                              apr_size_t want, apr_size_t *got, int *eos)
{
    int empty_rounds = 0;

    *got = 0;
    *eos = 0;
    while (*got == 0 && !*eos) {
        apr_status_t rv;
        apr_bucket *b;

        if (APR_BRIGADE_EMPTY(bb)) {
            rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                                APR_BLOCK_READ, (apr_off_t)want);
            if (rv != APR_SUCCESS) {
                apr_brigade_cleanup(bb);
                return rv;
            }
            if (APR_BRIGADE_EMPTY(bb) || ++empty_rounds > MP_MAX_EMPTY)
                return APR_EGENERAL;    /* a filter broke the blocking-read contract */
        }
        while (!APR_BRIGADE_EMPTY(bb) && *got < want) {
            const char *data;
            apr_size_t len;

            b = APR_BRIGADE_FIRST(bb);
            if (APR_BUCKET_IS_EOS(b)) {
                *eos = 1;
                apr_brigade_cleanup(bb);
                break;
            }
            if (!APR_BUCKET_IS_METADATA(b)) {
                rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
                if (rv != APR_SUCCESS) {
                    apr_brigade_cleanup(bb);
                    return rv;
                }
                if (len > want - *got) {
                    apr_bucket_split(b, want - *got);
                    len = want - *got;
                }
                memcpy(buf + *got, data, len);
                *got += len;
            }
            apr_bucket_delete(b);
        }
    }
    return APR_SUCCESS;
}

/* A body read failed: raise (and remember, for every later read) the
 * status httpd maps rv to -- 400 cut short or malformed, 408 timeout, 413
 * too large, AP_FILTER_ERROR when an input filter already answered -- as
 * RequestBodyError (a SERVER_RETURN and an OSError); one log line says why. */
static Py_ssize_t body_failed(mp_request *self, request_rec *r, apr_status_t rv)
{
    int status = ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
    const char *why;

    switch (status) {
    case HTTP_REQUEST_TIME_OUT:
        why = "the client timed out sending it";
        break;
    case HTTP_REQUEST_ENTITY_TOO_LARGE:
        why = "it exceeds LimitRequestBody";
        break;
    case AP_FILTER_ERROR:
        why = "an input filter refused it and answered the client";
        break;
    default:
        why = r->read_chunked ? "it is cut short or its chunked encoding is broken"
                              : "it ended before Content-Length bytes (the client closed "
                                "the connection?)";
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, MP_APLOGNO(0530)
                  "Request body unreadable after %" APR_OFF_T_FMT " bytes: %s; "
                  "answering %d", r->read_length, why,
                  status == AP_FILTER_ERROR ? r->status : status);
    self->body_eof = 1;
    self->body_error = status;
    self->body_why = why;
    r->connection->keepalive = AP_CONN_CLOSE;
    mp_raise_body_error(status, apr_psprintf(r->pool, "Request body unreadable: %s", why));
    return -1;
}

/* Read up to `want` (> 0) body bytes into buf, GIL released meanwhile.
 * Returns the count, 0 at the end of the body, -1 with an exception set. */
static Py_ssize_t body_read(mp_request *self, request_rec *r, char *buf, apr_size_t want)
{
    apr_status_t rv;
    apr_size_t got = 0;
    int eos = 0;

    if (self->body_error) {
        mp_raise_body_error(self->body_error, apr_psprintf(r->pool, "Request body "
                                                           "unreadable: %s", self->body_why));
        return -1;
    }
    if (self->body_eof)
        return 0;
    self->io_busy = 1;
    MP_BEGIN_BLOCKING
    rv = pull_body(r, self->bb_in, buf, want, &got, &eos);
    MP_END_BLOCKING
    self->io_busy = 0;
    if (self->dead) {
        mp_err_dead("mp_request");
        return -1;
    }
    if (rv != APR_SUCCESS)
        return body_failed(self, r, rv);
    r->read_length += (apr_off_t)got;
    if (eos) {
        self->body_eof = 1;
        if (!r->read_chunked)
            r->remaining = 0;
    }
    return (Py_ssize_t)got;
}

static Py_ssize_t buffered(mp_request *self)
{
    return (Py_ssize_t)(self->rbuf_len - self->rbuf_pos);
}

/* Take n buffered bytes (n <= buffered(self)) as bytes. */
static PyObject *take_buffered(mp_request *self, Py_ssize_t n)
{
    PyObject *res = PyBytes_FromStringAndSize(self->rbuf + self->rbuf_pos, n);

    if (res != NULL) {
        self->rbuf_pos += (apr_size_t)n;
        if (self->rbuf_pos == self->rbuf_len)
            self->rbuf_pos = self->rbuf_len = 0;
    }
    return res;
}

/* read(len) with len < 0 meaning "all".  Buffered bytes first. */
static PyObject *read_body(mp_request *self, request_rec *r, Py_ssize_t n)
{
    Py_ssize_t have = buffered(self), cap, got, hint;
    PyObject *res;

    if (n >= 0 && n <= have)
        return take_buffered(self, n);
    hint = MP_READ_BLOCK;
    /* A known length: one byte more, so that the read which finds the end
     * of the body needs no bigger buffer (a grow copies the whole body). */
    if (!r->read_chunked && r->remaining > 0)
        hint = r->remaining < MP_READ_MAXHINT ? (Py_ssize_t)r->remaining + 1 : MP_READ_MAXHINT;
    cap = have + hint;
    if (n >= 0 && cap > n)
        cap = n;
    res = PyBytes_FromStringAndSize(NULL, cap);
    if (res == NULL)
        return NULL;
    if (have > 0)
        memcpy(PyBytes_AS_STRING(res), self->rbuf + self->rbuf_pos, (size_t)have);
    self->rbuf_pos = self->rbuf_len = 0;
    got = have;
    while (n < 0 || got < n) {
        Py_ssize_t k;
        if (got == cap) {
            Py_ssize_t ncap = cap < PY_SSIZE_T_MAX / 2 ? cap * 2 : PY_SSIZE_T_MAX;
            if (n >= 0 && ncap > n)
                ncap = n;
            if (_PyBytes_Resize(&res, ncap) < 0)
                return NULL;
            cap = ncap;
        }
        k = body_read(self, r, PyBytes_AS_STRING(res) + got, (apr_size_t)(cap - got));
        if (k < 0) {
            Py_DECREF(res);
            return NULL;
        }
        if (k == 0)
            break;
        got += k;
    }
    if (got != cap && _PyBytes_Resize(&res, got) < 0)
        return NULL;
    return res;
}

/* Make room for `want` more bytes at the end of the line buffer. */
static int rbuf_reserve(mp_request *self, apr_size_t want)
{
    if (self->rbuf_pos > 0) {
        memmove(self->rbuf, self->rbuf + self->rbuf_pos, self->rbuf_len - self->rbuf_pos);
        self->rbuf_len -= self->rbuf_pos;
        self->rbuf_pos = 0;
    }
    if (self->rbuf_size - self->rbuf_len < want) {
        apr_size_t size = self->rbuf_size ? self->rbuf_size : MP_LINE_BLOCK;
        char *nb;
        while (size - self->rbuf_len < want)
            size *= 2;
        nb = realloc(self->rbuf, size);
        if (nb == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->rbuf = nb;
        self->rbuf_size = size;
    }
    return 0;
}

/* One line (with its '\n'), at most `limit` bytes (limit < 0: no limit). */
static PyObject *read_line(mp_request *self, request_rec *r, Py_ssize_t limit)
{
    if (limit < 0)
        limit = PY_SSIZE_T_MAX;
    for (;;) {
        Py_ssize_t have = buffered(self), scan = have < limit ? have : limit, k;
        const char *start = self->rbuf + self->rbuf_pos;
        const char *nl = scan > 0 ? memchr(start, '\n', (size_t)scan) : NULL;
        apr_size_t want;

        if (nl != NULL)
            return take_buffered(self, (Py_ssize_t)(nl - start) + 1);
        if (have >= limit || self->body_eof)
            return take_buffered(self, scan);
        want = MP_LINE_BLOCK;
        if (limit - have > MP_LINE_BLOCK)
            want = (limit - have) < MP_READ_BLOCK ? (apr_size_t)(limit - have) : MP_READ_BLOCK;
        if (rbuf_reserve(self, want) < 0)
            return NULL;
        k = body_read(self, r, self->rbuf + self->rbuf_len, want);
        if (k < 0)
            return NULL;
        self->rbuf_len += (apr_size_t)k;
    }
}

static PyObject *req_read(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"len", NULL};
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    Py_ssize_t len = -1;

    if (r == NULL || !PyArg_ParseTupleAndKeywords(args, kw, "|n:read", kwlist, &len))
        return NULL;
    if (len == 0)
        return PyBytes_FromStringAndSize(NULL, 0);
    if (body_setup(self, r) < 0)
        return NULL;
    return read_body(self, r, len < 0 ? -1 : len);
}

static PyObject *req_readline(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"len", NULL};
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    Py_ssize_t len = -1;

    if (r == NULL || !PyArg_ParseTupleAndKeywords(args, kw, "|n:readline", kwlist, &len))
        return NULL;
    if (len == 0)
        return PyBytes_FromStringAndSize(NULL, 0);
    if (body_setup(self, r) < 0)
        return NULL;
    return read_line(self, r, len);
}

static PyObject *req_readlines(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"sizehint", NULL};
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    Py_ssize_t hint = -1, total = 0;
    PyObject *list;

    if (r == NULL ||
        !PyArg_ParseTupleAndKeywords(args, kw, "|n:readlines", kwlist, &hint))
        return NULL;
    if (body_setup(self, r) < 0)
        return NULL;
    list = PyList_New(0);
    if (list == NULL)
        return NULL;
    for (;;) {
        PyObject *line = read_line(self, r, -1);
        Py_ssize_t n;
        if (line == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        n = PyBytes_GET_SIZE(line);
        if (n == 0) {
            Py_DECREF(line);
            break;
        }
        if (PyList_Append(list, line) < 0) {
            Py_DECREF(line);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(line);
        total += n;
        if (hint > 0 && total >= hint)
            break;
    }
    return list;
}

/* -------------------------------------------------------- body output */

static PyObject *write_failed(void)
{
    PyErr_SetString(PyExc_IOError, "Write failed, client closed connection.");
    return NULL;
}

/* write(data, flush=1): data is str (sent as UTF-8) or any bytes-like
 * object (3.5 took read-only ones only); its buffer is held while the GIL
 * is released. */
static PyObject *req_write(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"data", "flush", NULL};
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    PyObject *data;
    Py_buffer view;
    const char *buf;
    Py_ssize_t len;
    int flush = 1, rc = 0;

    if (r == NULL ||
        !PyArg_ParseTupleAndKeywords(args, kw, "O|i:write", kwlist, &data, &flush))
        return NULL;
    view.obj = NULL;
    if (PyUnicode_Check(data)) {
        buf = PyUnicode_AsUTF8AndSize(data, &len);
        if (buf == NULL)
            return NULL;
    }
    else if (PyObject_CheckBuffer(data)) {
        if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
            return NULL;
        buf = view.buf;
        len = view.len;
    }
    else {
        PyErr_Format(PyExc_TypeError,
                     "write() argument must be str or a bytes-like object, not %.100s",
                     Py_TYPE(data)->tp_name);
        return NULL;
    }
    if (len > 0) {
        Py_ssize_t done = 0;
        MP_BEGIN_BLOCKING
        while (rc != -1 && done < len) {
            int chunk = (len - done) > MP_WRITE_MAX ? MP_WRITE_MAX : (int)(len - done);
            rc = ap_rwrite(buf + done, chunk, r);
            done += chunk;
        }
        if (rc != -1 && flush)
            rc = ap_rflush(r);
        MP_END_BLOCKING
    }
    if (view.obj != NULL)
        PyBuffer_Release(&view);
    if (rc == -1)
        return write_failed();
    if (!self->dead)
        self->bytes_queued += len;
    Py_RETURN_NONE;
}

static PyObject *req_flush(PyObject *o, PyObject *unused)
{
    request_rec *r = mp_request_rec((mp_request *)o);
    int rc;

    (void)unused;
    if (r == NULL)
        return NULL;
    MP_BEGIN_BLOCKING
    rc = ap_rflush(r);
    MP_END_BLOCKING
    if (rc == -1) {
        PyErr_SetString(PyExc_IOError, "Flush failed, client closed connection.");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *req_sendfile(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "offset", "len", NULL};
    mp_request *self = (mp_request *)o;
    request_rec *r = mp_request_rec(self);
    const char *path;
    long long offset = 0, len = -1;
    apr_finfo_t finfo;
    apr_file_t *fd = NULL;
    apr_size_t sent = 0;
    apr_status_t rv;

    if (r == NULL ||
        !PyArg_ParseTupleAndKeywords(args, kw, "s|LL:sendfile", kwlist, &path, &offset, &len))
        return NULL;
    if (offset < 0) {
        PyErr_SetString(PyExc_ValueError, "offset must not be negative");
        return NULL;
    }
    MP_BEGIN_BLOCKING
    rv = apr_stat(&finfo, path, APR_FINFO_NORM, r->pool);
    MP_END_BLOCKING
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
        PyErr_SetString(PyExc_IOError, "Could not stat file for reading");
        return NULL;
    }
    MP_BEGIN_BLOCKING
    rv = apr_file_open(&fd, path, APR_READ, APR_OS_DEFAULT, r->pool);
    MP_END_BLOCKING
    if (rv != APR_SUCCESS) {
        PyErr_SetString(PyExc_IOError, "Could not open file for reading");
        return NULL;
    }
    if (finfo.filetype != APR_REG) {
        PyErr_SetString(PyExc_IOError, "Could not open file for reading");
        return NULL;
    }
    /* 3.5 sent `size` bytes even from an offset (reading past the end). */
    if (offset > (long long)finfo.size)
        offset = (long long)finfo.size;
    if (len < 0 || len > (long long)finfo.size - offset)
        len = (long long)finfo.size - offset;
    if (len > 0) {
        MP_BEGIN_BLOCKING
        rv = ap_send_fd(fd, r, (apr_off_t)offset, (apr_size_t)len, &sent);
        MP_END_BLOCKING
        if (rv != APR_SUCCESS)
            return write_failed();
        if (!self->dead)
            self->bytes_queued += (apr_off_t)len;
    }
    return PyLong_FromLongLong((long long)sent);
}

PyMethodDef mp_request_io_methods[] = {
    {"read", (PyCFunction)(void (*)(void))req_read, METH_VARARGS | METH_KEYWORDS,
     "read([len]) -> bytes of the request body"},
    {"readline", (PyCFunction)(void (*)(void))req_readline, METH_VARARGS | METH_KEYWORDS,
     "readline([len]) -> one line of the request body"},
    {"readlines", (PyCFunction)(void (*)(void))req_readlines, METH_VARARGS | METH_KEYWORDS,
     "readlines([sizehint]) -> list of lines"},
    {"write", (PyCFunction)(void (*)(void))req_write, METH_VARARGS | METH_KEYWORDS,
     "write(data[, flush=1])"},
    {"flush", req_flush, METH_NOARGS, "flush the output"},
    {"sendfile", (PyCFunction)(void (*)(void))req_sendfile, METH_VARARGS | METH_KEYWORDS,
     "sendfile(path[, offset, len]) -> bytes sent"},
    {NULL, NULL, 0, NULL}
};
