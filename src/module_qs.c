/*
 * module_qs.c - _apache.parse_qs / parse_qsl (mod_python 3.5 manual: util.parse_qs).
 *
 * Unlike 3.5's C version this one never mixes up short pairs: every pair is
 * cut out of its own copy of the segment (3.5 corrupted `p=2&q=tea`).
 * str input is taken as UTF-8 and the resulting keys/values are decoded as
 * UTF-8 with a Latin-1 fallback (never failing); bytes-like input gives
 * bytes.
 */
#include "mp_common.h"
#include "mp_module.h"
#include "mp_util.h"

typedef int (*qs_sink)(void *ctx, PyObject *key, PyObject *value);

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* %XX-unescape p[0..n) in place; invalid escapes are kept as they are.
 * Returns the new length. */
static Py_ssize_t qs_unescape(char *p, Py_ssize_t n)
{
    Py_ssize_t i, o = 0;

    for (i = 0; i < n; i++) {
        int hi, lo;
        if (p[i] == '%' && i + 2 < n
            && (hi = hexval(p[i + 1])) >= 0 && (lo = hexval(p[i + 2])) >= 0) {
            p[o++] = (char)((hi << 4) | lo);
            i += 2;
        }
        else {
            p[o++] = p[i];
        }
    }
    return o;
}

static PyObject *qs_item(const char *s, Py_ssize_t n, int as_bytes)
{
    return as_bytes ? PyBytes_FromStringAndSize(s, n) : mp_strn(s, n);
}

/* Walk the pairs of s[0..len) and hand each to sink.  0 ok, -1 error. */
static int qs_walk(const char *s, Py_ssize_t len, int keep_blank, int as_bytes,
                   qs_sink sink, void *ctx)
{
    char *seg;
    Py_ssize_t i = 0;
    int rc = 0;

    seg = PyMem_Malloc((size_t)len + 1);
    if (seg == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    while (i < len && rc == 0) {
        Py_ssize_t start = i, seglen, klen, vlen, j;
        char *eq, *val;
        PyObject *k, *v;

        while (i < len && s[i] != '&' && s[i] != ';')
            i++;
        seglen = i - start;
        i++;                                   /* the separator */
        if (seglen == 0)
            continue;
        for (j = 0; j < seglen; j++)
            seg[j] = (s[start + j] == '+') ? ' ' : s[start + j];
        eq = memchr(seg, '=', (size_t)seglen);
        klen = eq ? eq - seg : seglen;
        val = eq ? eq + 1 : seg + seglen;
        vlen = seglen - (val - seg);
        if (vlen == 0 && !keep_blank)
            continue;
        klen = qs_unescape(seg, klen);
        vlen = qs_unescape(val, vlen);
        k = qs_item(seg, klen, as_bytes);
        v = k ? qs_item(val, vlen, as_bytes) : NULL;
        if (k == NULL || v == NULL)
            rc = -1;
        else
            rc = sink(ctx, k, v);
        Py_XDECREF(k);
        Py_XDECREF(v);
    }
    PyMem_Free(seg);
    return rc;
}

/* Parse the arguments shared by both functions and walk the query string. */
static int qs_run(PyObject *args, PyObject *kw, qs_sink sink, void *ctx)
{
    static char *kwlist[] = {"qs", "keep_blank_values", "strict_parsing", NULL};
    PyObject *qs, *enc = NULL;
    int keep_blank = 0, strict = 0, rc;
    Py_buffer view;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|pp:parse_qs", kwlist,
                                     &qs, &keep_blank, &strict))
        return -1;
    (void)strict;                                   /* ignored, as in 3.5 */
    if (PyUnicode_Check(qs)) {
        enc = PyUnicode_AsEncodedString(qs, "utf-8", "surrogateescape");
        if (enc == NULL)
            return -1;
        rc = qs_walk(PyBytes_AS_STRING(enc), PyBytes_GET_SIZE(enc), keep_blank, 0,
                     sink, ctx);
        Py_DECREF(enc);
        return rc;
    }
    if (PyObject_GetBuffer(qs, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Format(PyExc_TypeError, "query string must be str or bytes, not %.100s",
                     Py_TYPE(qs)->tp_name);
        return -1;
    }
    rc = qs_walk((const char *)view.buf, view.len, keep_blank, 1, sink, ctx);
    PyBuffer_Release(&view);
    return rc;
}

static int sink_list(void *ctx, PyObject *k, PyObject *v)
{
    PyObject *pair = PyTuple_Pack(2, k, v);
    int rc;

    if (pair == NULL)
        return -1;
    rc = PyList_Append((PyObject *)ctx, pair);
    Py_DECREF(pair);
    return rc;
}

static int sink_dict(void *ctx, PyObject *k, PyObject *v)
{
    PyObject *d = (PyObject *)ctx, *lst;
    int rc;

    lst = PyDict_GetItemWithError(d, k);          /* borrowed */
    if (lst != NULL)
        return PyList_Append(lst, v);
    if (PyErr_Occurred())
        return -1;
    lst = PyList_New(1);
    if (lst == NULL)
        return -1;
    Py_INCREF(v);
    PyList_SET_ITEM(lst, 0, v);
    rc = PyDict_SetItem(d, k, lst);
    Py_DECREF(lst);
    return rc;
}

PyObject *mp_module_parse_qsl(PyObject *self, PyObject *args, PyObject *kw)
{
    PyObject *res = PyList_New(0);

    (void)self;
    if (res == NULL)
        return NULL;
    if (qs_run(args, kw, sink_list, res) < 0) {
        Py_DECREF(res);
        return NULL;
    }
    return res;
}

PyObject *mp_module_parse_qs(PyObject *self, PyObject *args, PyObject *kw)
{
    PyObject *res = PyDict_New();

    (void)self;
    if (res == NULL)
        return NULL;
    if (qs_run(args, kw, sink_dict, res) < 0) {
        Py_DECREF(res);
        return NULL;
    }
    return res;
}
