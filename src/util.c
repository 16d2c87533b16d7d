/*
 * util.c - conversions between C and Python values, shared by all layers.
 * Depends on nothing of ours (bottom floor).
 */
#include "mp_common.h"
#include "mp_util.h"

PyObject *mp_err_dead(const char *what)
{
    PyErr_Format(PyExc_RuntimeError,
                 "%s object is no longer valid (its request or connection has ended)",
                 what ? what : "mod_python");
    return NULL;
}

PyObject *mp_strn(const char *s, Py_ssize_t n)
{
    PyObject *o;

    if (s == NULL)
        Py_RETURN_NONE;
    o = PyUnicode_DecodeUTF8(s, n, "strict");
    if (o == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        /* Not UTF-8 (e.g. a Latin-1 header byte): never raise on read. */
        PyErr_Clear();
        o = PyUnicode_DecodeLatin1(s, n, NULL);
    }
    return o;
}

PyObject *mp_str(const char *s)
{
    if (s == NULL)
        Py_RETURN_NONE;
    return mp_strn(s, (Py_ssize_t)strlen(s));
}

PyObject *mp_str_latin1(const char *s)
{
    if (s == NULL)
        Py_RETURN_NONE;
    return PyUnicode_DecodeLatin1(s, (Py_ssize_t)strlen(s), NULL);
}

static const char *copy_bytes(apr_pool_t *p, PyObject *b)
{
    char *data;
    Py_ssize_t len;

    if (PyBytes_AsStringAndSize(b, &data, &len) < 0)
        return NULL;
    return apr_pstrmemdup(p, data, (apr_size_t)len);
}

const char *mp_latin1_from_py(apr_pool_t *p, PyObject *o, const char *what)
{
    if (PyUnicode_Check(o)) {
        PyObject *b = PyUnicode_AsLatin1String(o);
        const char *res;
        if (b == NULL) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError, "not an ISO-8859-1 string");
            return NULL;
        }
        res = copy_bytes(p, b);
        Py_DECREF(b);
        return res;
    }
    if (PyBytes_Check(o))
        return copy_bytes(p, o);
    PyErr_Format(PyExc_TypeError, "%s must be a str or bytes, not %.100s",
                 what ? what : "value", Py_TYPE(o)->tp_name);
    return NULL;
}

const char *mp_utf8_from_py(apr_pool_t *p, PyObject *o, const char *what)
{
    if (PyUnicode_Check(o)) {
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(o, &len);
        return s ? apr_pstrmemdup(p, s, (apr_size_t)len) : NULL;
    }
    if (PyBytes_Check(o))
        return copy_bytes(p, o);
    PyErr_Format(PyExc_TypeError, "%s must be a str or bytes, not %.100s",
                 what ? what : "argument", Py_TYPE(o)->tp_name);
    return NULL;
}

PyObject *mp_float_time(apr_time_t t)
{
    return PyFloat_FromDouble((double)t / (double)APR_USEC_PER_SEC);
}

static PyObject *apache_attr(const char *name)
{
    PyObject *mod = PyImport_ImportModule("_apache"), *attr;

    if (mod == NULL)
        return NULL;
    attr = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return attr;
}

PyObject *mp_raise_server_return(int status)
{
    PyObject *exc = apache_attr("SERVER_RETURN"), *val;

    if (exc == NULL)
        return NULL;
    val = PyLong_FromLong(status);
    if (val != NULL) {
        PyErr_SetObject(exc, val);
        Py_DECREF(val);
    }
    Py_DECREF(exc);
    return NULL;
}

PyObject *mp_raise_body_error(int status, const char *why)
{
    PyObject *cls = apache_attr("RequestBodyError"), *inst = NULL, *msg = NULL;

    if (cls != NULL)
        inst = PyObject_CallFunction(cls, "i", status);
    if (inst != NULL)
        msg = mp_str(why);
    if (msg != NULL && PyObject_SetAttrString(inst, "strerror", msg) == 0)
        PyErr_SetObject(cls, inst);
    Py_XDECREF(msg);
    Py_XDECREF(inst);
    Py_XDECREF(cls);
    return NULL;
}

int mp_handler_status(PyObject *res, request_rec *r, conn_rec *c,
                      const char *phase, const char *handler)
{
    const char *why = NULL;
    long v = 0;
    int overflow = 0;

    if (!PyLong_Check(res))
        why = "a non-int";
    else {
        v = PyLong_AsLongAndOverflow(res, &overflow);
        if (v == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            overflow = 1;
        }
        if (overflow || v < INT_MIN || v > INT_MAX)
            why = "an int out of range for a status";
    }
    if (why == NULL)
        return (int)v;
    if (r != NULL)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0430)
                      "%s %s returned %s (%.100s); answering 500", phase ? phase : "",
                      handler ? handler : "handler", why, Py_TYPE(res)->tp_name);
    else
        ap_log_cerror(APLOG_MARK, APLOG_ERR, 0, c, MP_APLOGNO(0430)
                      "%s %s returned %s (%.100s); answering 500", phase ? phase : "",
                      handler ? handler : "handler", why, Py_TYPE(res)->tp_name);
    return HTTP_INTERNAL_SERVER_ERROR;
}

PyObject *mp_sockaddr_tuple(apr_sockaddr_t *sa)
{
    char *ip = NULL;

    if (sa == NULL)
        Py_RETURN_NONE;
    if (apr_sockaddr_ip_get(&ip, sa) != APR_SUCCESS || ip == NULL)
        Py_RETURN_NONE;
    return Py_BuildValue("(si)", ip, (int)sa->port);
}

PyObject *mp_braced_join(PyObject *parts)
{
    PyObject *sep, *body, *res;

    sep = PyUnicode_FromString(", ");
    body = sep ? PyUnicode_Join(sep, parts) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(parts);
    if (body == NULL)
        return NULL;
    res = PyUnicode_FromFormat("{%U}", body);
    Py_DECREF(body);
    return res;
}
