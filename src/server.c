/*
 * server.c - the mp_server object (mod_python 3.5 manual: "Server Object
 * (mp_server)") and the child-exit cleanups registered with
 * server.register_cleanup() / apache.register_cleanup().
 *
 * A server_rec lives as long as the child process, so the wrapper never
 * dies; it has an instance __dict__.  Attributes are read through one
 * table of descriptors (offset + kind) instead of a chain of name tests.
 */
#include "mp_common.h"
#include "mp_server.h"
#include "mp_config.h"
#include "mp_table.h"
#include "mp_log.h"
#include "mp_request.h"
#include "scoreboard.h"
#include <stddef.h>

/* ------------------------------------------------------------------ */
/* attributes                                                          */
/* ------------------------------------------------------------------ */

typedef enum {
    SV_STR,        /* const char * */
    SV_INT,        /* int */
    SV_UINT,       /* unsigned */
    SV_CHAR,       /* char used as a small int */
    SV_PORT,       /* apr_port_t */
    SV_INTERVAL,   /* apr_interval_time_t -> float seconds */
    SV_FUNC        /* computed by fn */
} sv_kind;

typedef struct sv_attr sv_attr;
struct sv_attr {
    sv_kind kind;
    size_t offset;
    PyObject *(*fn)(mp_server *self);
};

static PyObject *sv_next(mp_server *self);
static PyObject *sv_names(mp_server *self);
static PyObject *sv_wild_names(mp_server *self);
static PyObject *sv_loglevel(mp_server *self);
static PyObject *sv_generation(mp_server *self);
static PyObject *sv_restart_time(mp_server *self);
static PyObject *sv_capsule(mp_server *self);

#define SVF(kind, field) {kind, offsetof(server_rec, field), NULL}
#define SVFN(fn) {SV_FUNC, 0, fn}

enum {
    SA_NEXT, SA_DEFN_NAME, SA_DEFN_LINE, SA_ADMIN, SA_HOSTNAME, SA_PORT,
    SA_ERROR_FNAME, SA_LOGLEVEL, SA_IS_VIRTUAL, SA_TIMEOUT, SA_KA_TIMEOUT,
    SA_KA_MAX, SA_KA, SA_PATH, SA_PATHLEN, SA_NAMES, SA_WILD_NAMES,
    SA_LIMIT_LINE, SA_LIMIT_FIELDSIZE, SA_LIMIT_FIELDS, SA_GENERATION,
    SA_RESTART_TIME, SA_CAPSULE, SA_COUNT
};

static const sv_attr sv_attrs[SA_COUNT] = {
    [SA_NEXT]            = SVFN(sv_next),
    [SA_DEFN_NAME]       = SVF(SV_STR, defn_name),
    [SA_DEFN_LINE]       = SVF(SV_UINT, defn_line_number),
    [SA_ADMIN]           = SVF(SV_STR, server_admin),
    [SA_HOSTNAME]        = SVF(SV_STR, server_hostname),
    [SA_PORT]            = SVF(SV_PORT, port),
    [SA_ERROR_FNAME]     = SVF(SV_STR, error_fname),
    [SA_LOGLEVEL]        = SVFN(sv_loglevel),
    [SA_IS_VIRTUAL]      = SVF(SV_CHAR, is_virtual),
    [SA_TIMEOUT]         = SVF(SV_INTERVAL, timeout),
    [SA_KA_TIMEOUT]      = SVF(SV_INTERVAL, keep_alive_timeout),
    [SA_KA_MAX]          = SVF(SV_INT, keep_alive_max),
    [SA_KA]              = SVF(SV_INT, keep_alive),
    [SA_PATH]            = SVF(SV_STR, path),
    [SA_PATHLEN]         = SVF(SV_INT, pathlen),
    [SA_NAMES]           = SVFN(sv_names),
    [SA_WILD_NAMES]      = SVFN(sv_wild_names),
    [SA_LIMIT_LINE]      = SVF(SV_INT, limit_req_line),
    [SA_LIMIT_FIELDSIZE] = SVF(SV_INT, limit_req_fieldsize),
    [SA_LIMIT_FIELDS]    = SVF(SV_INT, limit_req_fields),
    [SA_GENERATION]      = SVFN(sv_generation),
    [SA_RESTART_TIME]    = SVFN(sv_restart_time),
    [SA_CAPSULE]         = SVFN(sv_capsule),
};

static PyObject *server_getter(PyObject *o, void *closure)
{
    mp_server *self = (mp_server *)o;
    const sv_attr *a = (const sv_attr *)closure;
    const char *base;

    if (self->dead || self->s == NULL)
        return mp_err_dead("mp_server");
    base = (const char *)self->s + a->offset;
    switch (a->kind) {
    case SV_STR:
        return mp_str(*(const char *const *)base);
    case SV_INT:
        return PyLong_FromLong(*(const int *)base);
    case SV_UINT:
        return PyLong_FromUnsignedLong(*(const unsigned *)base);
    case SV_CHAR:
        return PyLong_FromLong(*(const char *)base);
    case SV_PORT:
        return PyLong_FromLong(*(const apr_port_t *)base);
    case SV_INTERVAL:
        return PyFloat_FromDouble((double)*(const apr_interval_time_t *)base
                                  / APR_USEC_PER_SEC);
    case SV_FUNC:
    default:
        return a->fn(self);
    }
}

static PyObject *sv_next(mp_server *self)
{
    if (self->next == NULL) {
        if (self->s->next == NULL)
            Py_RETURN_NONE;
        self->next = mp_server_new(self->s->next);
        if (self->next == NULL)
            return NULL;
    }
    Py_INCREF(self->next);
    return self->next;
}

static PyObject *str_array_tuple(const apr_array_header_t *a)
{
    PyObject *t;
    int i, n = a ? a->nelts : 0;

    t = PyTuple_New(n);
    if (t == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *s = mp_str(((char **)a->elts)[i]);
        if (s == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, s);
    }
    return t;
}

static PyObject *sv_names(mp_server *self) { return str_array_tuple(self->s->names); }
static PyObject *sv_wild_names(mp_server *self) { return str_array_tuple(self->s->wild_names); }

static PyObject *sv_loglevel(mp_server *self)
{
    return PyLong_FromLong(self->s->log.level);
}

static PyObject *sv_generation(mp_server *self)
{
    int gen = 0;
    (void)self;
    if (ap_mpm_query(AP_MPMQ_GENERATION, &gen) != APR_SUCCESS)
        gen = 0;
    return PyLong_FromLong(gen);
}

static PyObject *sv_restart_time(mp_server *self)
{
    apr_time_t t = 0;
    (void)self;
    if (ap_scoreboard_image != NULL && ap_scoreboard_image->global != NULL)
        t = ap_scoreboard_image->global->restart_time;
    return PyFloat_FromDouble((double)t / APR_USEC_PER_SEC);
}

static PyObject *sv_capsule(mp_server *self)
{
    return PyCapsule_New(self->s, NULL, NULL);
}

#define SV_GETSET(nm, id, dc) \
    {.name = nm, .get = server_getter, .set = NULL, .doc = dc, \
     .closure = (void *)&sv_attrs[id]}

static PyGetSetDef server_getset[] = {
    SV_GETSET("next", SA_NEXT, "next server in httpd's list"),
    SV_GETSET("defn_name", SA_DEFN_NAME, "config file where the server was defined"),
    SV_GETSET("defn_line_number", SA_DEFN_LINE, "line of the definition"),
    SV_GETSET("server_admin", SA_ADMIN, "ServerAdmin"),
    SV_GETSET("server_hostname", SA_HOSTNAME, "ServerName"),
    SV_GETSET("port", SA_PORT, "port (often 0)"),
    SV_GETSET("error_fname", SA_ERROR_FNAME, "error log file name"),
    SV_GETSET("loglevel", SA_LOGLEVEL, "LogLevel"),
    SV_GETSET("is_virtual", SA_IS_VIRTUAL, "true for a virtual host"),
    SV_GETSET("timeout", SA_TIMEOUT, "Timeout in seconds"),
    SV_GETSET("keep_alive_timeout", SA_KA_TIMEOUT, "KeepAliveTimeout in seconds"),
    SV_GETSET("keep_alive_max", SA_KA_MAX, "MaxKeepAliveRequests"),
    SV_GETSET("keep_alive", SA_KA, "KeepAlive"),
    SV_GETSET("path", SA_PATH, "ServerPath"),
    SV_GETSET("pathlen", SA_PATHLEN, "length of path"),
    SV_GETSET("names", SA_NAMES, "ServerAlias names"),
    SV_GETSET("wild_names", SA_WILD_NAMES, "wildcard ServerAlias names"),
    SV_GETSET("limit_req_line", SA_LIMIT_LINE, "LimitRequestLine"),
    SV_GETSET("limit_req_fieldsize", SA_LIMIT_FIELDSIZE, "LimitRequestFieldSize"),
    SV_GETSET("limit_req_fields", SA_LIMIT_FIELDS, "LimitRequestFields"),
    SV_GETSET("my_generation", SA_GENERATION, "MPM generation"),
    SV_GETSET("restart_time", SA_RESTART_TIME, "server restart time (seconds)"),
    SV_GETSET("_server_rec", SA_CAPSULE, "raw server_rec pointer"),
    {NULL, NULL, NULL, NULL, NULL}
};

/* ------------------------------------------------------------------ */
/* child-exit cleanups                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    mp_interp *ip;          /* interpreter that owns callable and data */
    server_rec *s;          /* where errors are logged */
    PyObject *callable;
    PyObject *data;
} mp_child_cleanup;

/* Child pool cleanup (through mp_interp_at_child_exit); no GIL held. */
static apr_status_t run_child_cleanup(void *data)
{
    mp_child_cleanup *e = data;
    mp_gil_token tok;
    PyObject *res;

    if (!mp_interp_python_ready()) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, e->s, MP_APLOGNO(0700)
                     "Python is no longer running: a server.register_cleanup() "
                     "callable was not run");
        free(e);
        return APR_SUCCESS;
    }
    mp_interp_enter(e->ip, &tok);
    res = PyObject_CallOneArg(e->callable, e->data);
    if (res == NULL)
        mp_log_py_error(NULL, NULL, e->s, "server.register_cleanup callback");
    Py_XDECREF(res);
    Py_DECREF(e->callable);
    Py_DECREF(e->data);
    mp_interp_leave(&tok);
    free(e);
    return APR_SUCCESS;
}

int mp_server_register_cleanup(mp_interp *ip, server_rec *s, PyObject *callable,
                               PyObject *data)
{
    mp_child_cleanup *e;

    if (ip == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "register_cleanup: no current interpreter");
        return -1;
    }
    e = malloc(sizeof(*e));
    if (e == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    e->ip = ip;
    e->s = s;
    e->callable = Py_NewRef(callable);
    e->data = Py_NewRef(data != NULL ? data : Py_None);
    /* serialised registration on the (thread-unsafe) child pool; runs
     * LIFO with other child-exit work, before Python's own exit work */
    if (mp_interp_at_child_exit(run_child_cleanup, e) != APR_SUCCESS) {
        Py_DECREF(e->callable);
        Py_DECREF(e->data);
        free(e);
        PyErr_SetString(PyExc_RuntimeError,
                        "register_cleanup: the child process does not exist yet");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* methods                                                             */
/* ------------------------------------------------------------------ */

static PyObject *server_get_config(PyObject *o, PyObject *unused)
{
    mp_server *self = (mp_server *)o;
    mp_srv_cfg *cfg;
    (void)unused;

    cfg = mp_srv_config(self->s);
    if (cfg == NULL || cfg->directives == NULL)
        return mp_table_new();
    return mp_table_wrap(cfg->directives, o);
}

static PyObject *server_get_options(PyObject *o, PyObject *unused)
{
    mp_server *self = (mp_server *)o;
    mp_srv_cfg *cfg;
    (void)unused;

    cfg = mp_srv_config(self->s);
    if (cfg == NULL || cfg->options == NULL)
        return mp_table_new();
    return mp_table_wrap(cfg->options, o);
}

/* Message argument of log_error(): str as UTF-8, bytes as is; NULL with
 * *none set for None; NULL with an exception for other types. */
const char *mp_server_log_text(PyObject *msg, int *none)
{
    *none = 0;
    if (msg == Py_None) {
        *none = 1;
        return NULL;
    }
    if (PyUnicode_Check(msg))
        return PyUnicode_AsUTF8(msg);
    if (PyBytes_Check(msg))
        return PyBytes_AS_STRING(msg);
    PyErr_Format(PyExc_TypeError, "log_error() message must be str or bytes, not %.100s",
                 Py_TYPE(msg)->tp_name);
    return NULL;
}

static PyObject *server_log_error(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"message", "level", NULL};
    mp_server *self = (mp_server *)o;
    PyObject *msg;
    int level = APLOG_ERR, none;
    const char *text;

    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|i:log_error", kwlist, &msg, &level))
        return NULL;
    text = mp_server_log_text(msg, &none);
    if (text == NULL) {
        if (none)
            Py_RETURN_NONE;
        return NULL;
    }
    mp_log_message(NULL, NULL, self->s, level, text, 1);
    Py_RETURN_NONE;
}

static PyObject *server_register_cleanup(PyObject *o, PyObject *args)
{
    mp_server *self = (mp_server *)o;
    PyObject *req, *callable, *data = Py_None;

    if (!PyArg_ParseTuple(args, "OO|O:register_cleanup", &req, &callable, &data))
        return NULL;
    if (!mp_request_check(req)) {
        PyErr_SetString(PyExc_ValueError, "first argument must be a request object");
        return NULL;
    }
    if (!PyCallable_Check(callable)) {
        PyErr_SetString(PyExc_ValueError, "second argument must be a callable object");
        return NULL;
    }
    if (mp_server_register_cleanup(mp_interp_current(), self->s, callable, data) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef server_methods[] = {
    {"get_config", server_get_config, METH_NOARGS,
     "Live table of the server's mod_python directives."},
    {"get_options", server_get_options, METH_NOARGS,
     "Live table of the server's PythonOption values."},
    {"log_error", (PyCFunction)(void (*)(void))server_log_error,
     METH_VARARGS | METH_KEYWORDS, "log_error(message, level=APLOG_ERR)"},
    {"register_cleanup", server_register_cleanup, METH_VARARGS,
     "register_cleanup(req, callable, data=None): run callable(data) at child exit."},
    {NULL, NULL, 0, NULL}
};

/* ------------------------------------------------------------------ */
/* type                                                                */
/* ------------------------------------------------------------------ */

static int server_traverse(PyObject *o, visitproc visit, void *arg)
{
    mp_server *self = (mp_server *)o;
    Py_VISIT(self->dict);
    Py_VISIT(self->next);
    return 0;
}

static int server_clear(PyObject *o)
{
    mp_server *self = (mp_server *)o;
    Py_CLEAR(self->dict);
    Py_CLEAR(self->next);
    return 0;
}

static void server_dealloc(PyObject *o)
{
    PyObject_GC_UnTrack(o);
    server_clear(o);
    PyObject_GC_Del(o);
}

PyTypeObject MpServer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mp_server",
    .tp_doc = "An httpd server_rec (virtual host).",
    .tp_basicsize = sizeof(mp_server),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = server_dealloc,
    .tp_traverse = server_traverse,
    .tp_clear = server_clear,
    .tp_methods = server_methods,
    .tp_getset = server_getset,
    .tp_dictoffset = offsetof(mp_server, dict),
};

int mp_server_type_init(void)
{
    return PyType_Ready(&MpServer_Type);
}

PyObject *mp_server_new(server_rec *s)
{
    mp_server *self;

    if (s == NULL)
        Py_RETURN_NONE;
    self = PyObject_GC_New(mp_server, &MpServer_Type);
    if (self == NULL)
        return NULL;
    self->dead = 0;
    self->s = s;
    self->dict = NULL;
    self->next = NULL;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}
