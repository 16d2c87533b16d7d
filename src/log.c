/*
 * log.c - writing Python errors and Python-originated messages to httpd's
 * error log, tagged with our module.
 */
#include "mp_common.h"
#include "mp_log.h"

/* Write one line to the most specific log available. */
static void log_line(request_rec *r, conn_rec *c, server_rec *s, int level,
                     const char *line)
{
    if (r != NULL)
        ap_log_rerror(APLOG_MARK, level, 0, r, "%s", line);
    else if (c != NULL)
        ap_log_cerror(APLOG_MARK, level, 0, c, "%s", line);
    else
        ap_log_error(APLOG_MARK, level, 0, s ? s : ap_server_conf, "%s", line);
}

void mp_log_message(request_rec *r, conn_rec *c, server_rec *s, int level,
                    const char *msg, int gil_held)
{
    PyThreadState *save = NULL;

    if (msg == NULL)
        return;
    if (level < APLOG_EMERG || level > APLOG_TRACE8)
        level = APLOG_ERR;
    if (gil_held)
        save = PyEval_SaveThread();
    log_line(r, c, s, level, msg);
    if (gil_held)
        PyEval_RestoreThread(save);
}

/* Format the exception with the traceback module; NULL if that fails. */
static PyObject *format_exception(PyObject *exc)
{
    PyObject *tb_mod, *lines = NULL;

    tb_mod = PyImport_ImportModule("traceback");
    if (tb_mod == NULL)
        return NULL;
    lines = PyObject_CallMethod(tb_mod, "format_exception", "O", exc);
    Py_DECREF(tb_mod);
    return lines;
}

/* The pending exception as one object (with __traceback__), cleared. */
static PyObject *fetch_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL)
        return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL) {
        Py_XDECREF(type);
        Py_XDECREF(tb);
        return NULL;
    }
    if (tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

void mp_log_py_error(request_rec *r, conn_rec *c, server_rec *s, const char *context)
{
    PyObject *exc, *lines;
    Py_ssize_t i, n;

    exc = fetch_exception();
    if (exc == NULL)
        return;
    if (context == NULL)
        context = "python";
    lines = format_exception(exc);
    if (lines == NULL || !PyList_Check(lines)) {
        /* Even formatting failed: log what we can. */
        PyErr_Clear();
        PyObject *str = PyObject_Str(exc);
        const char *txt = str ? PyUnicode_AsUTF8(str) : NULL;
        if (txt == NULL)
            PyErr_Clear();
        log_line(r, c, s, APLOG_ERR,
                 apr_psprintf(r ? r->pool : c ? c->pool : (s ? s : ap_server_conf)->process->pool,
                              MP_APLOGNO(0400) "%s: %s (traceback unavailable)", context,
                              txt ? txt : "<unprintable exception>"));
        Py_XDECREF(str);
        Py_XDECREF(lines);
        Py_DECREF(exc);
        return;
    }
    n = PyList_GET_SIZE(lines);
    for (i = 0; i < n; i++) {
        const char *chunk = PyUnicode_AsUTF8(PyList_GET_ITEM(lines, i));
        if (chunk == NULL) {
            PyErr_Clear();
            continue;
        }
        /* A chunk may hold several lines: log each one separately. */
        while (*chunk) {
            const char *nl = strchr(chunk, '\n');
            size_t len = nl ? (size_t)(nl - chunk) : strlen(chunk);
            if (r != NULL)
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0401) "%s: %.*s",
                              context, (int)len, chunk);
            else if (c != NULL)
                ap_log_cerror(APLOG_MARK, APLOG_ERR, 0, c, MP_APLOGNO(0401) "%s: %.*s",
                              context, (int)len, chunk);
            else
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, s ? s : ap_server_conf,
                             MP_APLOGNO(0401) "%s: %.*s", context, (int)len, chunk);
            chunk += len;
            if (*chunk == '\n')
                chunk++;
        }
    }
    Py_DECREF(lines);
    Py_DECREF(exc);
}
