/*
 * log.c - writing Python errors and Python-originated messages to httpd's
 * error log, tagged with our module, and the one way the C code takes a
 * pending Python exception (mp_exc_fetch / mp_exc_restore / mp_exc_summary).
 *
 * httpd escapes control characters in a log line ("\n" becomes the two
 * characters \ and n), so a message of several lines is written as one log
 * line per line; a leading "MPnnnn: " tag is repeated on each of them, so
 * that grepping for the tag finds the whole block.
 *
 * This file is the bottom layer: it cannot release the GIL the way the
 * upper layers must (MP_BEGIN_BLOCKING keeps interp.c's per-thread
 * bookkeeping), so interp.c hands it its release/reacquire pair once Python
 * is up (mp_log_set_gil_hooks).
 */
#include "mp_common.h"
#include "mp_log.h"

#include "apr_lib.h"

static mp_log_release_fn gil_release;
static mp_log_reacquire_fn gil_reacquire;

void mp_log_set_gil_hooks(mp_log_release_fn release, mp_log_reacquire_fn reacquire)
{
    gil_release = release;
    gil_reacquire = reacquire;
}

/* Release the GIL (when held and the hooks are known); the result goes to
 * unblock().  *released tells whether it was released. */
static PyThreadState *block(int gil_held, int *released)
{
    *released = gil_held && gil_release != NULL && gil_reacquire != NULL;
    return *released ? gil_release() : NULL;
}

static void unblock(PyThreadState *ts, int released)
{
    if (released)
        gil_reacquire(ts);
}

/* Write prefix + line[0..len) to the most specific log available. */
static void emit(request_rec *r, conn_rec *c, server_rec *s, int level,
                 const char *prefix, const char *line, size_t len)
{
    int n = len > INT_MAX ? INT_MAX : (int)len;

    if (r != NULL)
        ap_log_rerror(APLOG_MARK, level, 0, r, "%s%.*s", prefix, n, line);
    else if (c != NULL)
        ap_log_cerror(APLOG_MARK, level, 0, c, "%s%.*s", prefix, n, line);
    else
        ap_log_error(APLOG_MARK, level, 0, s ? s : ap_server_conf, "%s%.*s", prefix, n, line);
}

/* Length of a leading "MPnnnn: " tag of text (0 if none). */
static size_t tag_length(const char *text)
{
    int i;

    if (text[0] != 'M' || text[1] != 'P')
        return 0;
    for (i = 2; i < 6; i++)
        if (!apr_isdigit(text[i]))
            return 0;
    return (text[6] == ':' && text[7] == ' ') ? 8 : 0;
}

/* One log line per line of text (empty lines and a trailing "\r" left
 * out), each after prefix; with `tagged`, text starts with its own tag,
 * which the first line keeps and prefix repeats on the others. */
static void emit_lines(request_rec *r, conn_rec *c, server_rec *s, int level,
                       const char *prefix, const char *text, int tagged)
{
    const char *line = text;
    int first = 1;

    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        size_t shown = (len > 0 && line[len - 1] == '\r') ? len - 1 : len;

        if (shown > 0)
            emit(r, c, s, level, (first && tagged) ? "" : prefix, line, shown);
        first = 0;
        line += len;
        if (*line == '\n')
            line++;
    }
}

void mp_log_message(request_rec *r, conn_rec *c, server_rec *s, int level,
                    const char *msg, int gil_held)
{
    char tag[9];
    size_t taglen;
    PyThreadState *ts;
    int released;

    if (msg == NULL)
        return;
    if (level < APLOG_EMERG || level > APLOG_TRACE8)
        level = APLOG_ERR;
    taglen = tag_length(msg);
    memcpy(tag, msg, taglen);
    tag[taglen] = '\0';
    ts = block(gil_held, &released);
    if (strchr(msg, '\n') == NULL)
        emit(r, c, s, level, "", msg, strlen(msg));
    else
        emit_lines(r, c, s, level, tag, msg, taglen > 0);
    unblock(ts, released);
}

/* ------------------------------------------------ pending exceptions */

PyObject *mp_exc_fetch(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL)
        return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

void mp_exc_restore(PyObject *exc)
{
    if (exc == NULL)
        return;
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyObject *type = (PyObject *)Py_TYPE(exc);
    Py_INCREF(type);
    PyErr_Restore(type, exc, PyException_GetTraceback(exc));
#endif
}

const char *mp_exc_summary(PyObject *exc, char *buf, size_t size)
{
    PyObject *str = exc ? PyObject_Str(exc) : NULL;
    const char *txt = str ? PyUnicode_AsUTF8(str) : NULL;

    if (txt == NULL)
        PyErr_Clear();
    if (exc == NULL)
        apr_cpystrn(buf, "no exception", size);
    else if (txt != NULL && *txt)
        apr_snprintf(buf, size, "%s: %s", Py_TYPE(exc)->tp_name, txt);
    else
        apr_snprintf(buf, size, "%s%s", Py_TYPE(exc)->tp_name,
                     txt ? "" : " (unprintable)");
    Py_XDECREF(str);
    return buf;
}

/* "".join(traceback.format_exception(exc)); NULL (cleared) if that fails. */
static PyObject *format_exception(PyObject *exc)
{
    PyObject *tb_mod, *lines = NULL, *sep, *text = NULL;

    tb_mod = PyImport_ImportModule("traceback");
    if (tb_mod != NULL)
        lines = PyObject_CallMethod(tb_mod, "format_exception", "O", exc);
    if (lines != NULL && (sep = PyUnicode_FromString("")) != NULL) {
        text = PyUnicode_Join(sep, lines);
        Py_DECREF(sep);
    }
    Py_XDECREF(lines);
    Py_XDECREF(tb_mod);
    if (text == NULL)
        PyErr_Clear();
    return text;
}

void mp_log_py_error(request_rec *r, conn_rec *c, server_rec *s, const char *context)
{
    PyObject *exc, *text;
    const char *txt = NULL;
    char prefix[160], line[1024];
    PyThreadState *ts;
    int released;

    exc = mp_exc_fetch();
    if (exc == NULL)
        return;
    if (context == NULL)
        context = "python";
    text = format_exception(exc);
    if (text != NULL && (txt = PyUnicode_AsUTF8(text)) == NULL)
        PyErr_Clear();
    if (txt == NULL) {
        /* Even formatting failed: one line, from a buffer of our own (no
         * allocation from a long-lived pool on an error path). */
        char summary[800];
        apr_snprintf(line, sizeof(line), MP_APLOGNO(0400) "%s: %s (traceback unavailable)",
                     context, mp_exc_summary(exc, summary, sizeof(summary)));
    }
    else {
        apr_snprintf(prefix, sizeof(prefix), MP_APLOGNO(0401) "%s: ", context);
    }
    /* txt belongs to text, which we hold: it stays valid without the GIL */
    ts = block(1, &released);
    if (txt == NULL)
        emit(r, c, s, APLOG_ERR, "", line, strlen(line));
    else
        emit_lines(r, c, s, APLOG_ERR, prefix, txt, 0);
    unblock(ts, released);
    Py_XDECREF(text);
    Py_DECREF(exc);
}
