/*
 * module.c - the built-in `_apache` module (mod_python 3.5 manual: "apache - Access
 * to Apache Internals").
 *
 * PEP 489 multi-phase init: every (sub-)interpreter gets its own module
 * object with its own SERVER_RETURN class in the module state.  The object
 * types are static and shared (readied once per process); the module only
 * publishes them.  Constants live in module_const.c, parse_qs(l) in
 * module_qs.c.
 */
#include "mp_common.h"
#include "mp_module.h"
#include "mp_interp.h"
#include "mp_log.h"
#include "mp_util.h"
#include "mp_mutex.h"
#include "mp_sessdir.h"
#include "mp_reload.h"
#include "mp_reqstate.h"
#include "mp_table.h"
#include "mp_hlist.h"
#include "mp_finfo.h"
#include "mp_server.h"
#include "mp_conn.h"
#include "mp_request.h"
#include "mp_filterobj.h"
#include "util_cfgtree.h"

/* ------------------------------------------------------------------ */
/* Module state                                                        */

typedef struct {
    PyObject *server_return;
} mp_module_state;

static mp_module_state *module_state(PyObject *m)
{
    return (mp_module_state *)PyModule_GetState(m);
}

/* The server_rec of an mp_server argument, or NULL with an exception. */
static server_rec *server_arg(PyObject *o, PyObject *exc, const char *msg)
{
    if (!mp_server_check(o)) {
        PyErr_SetString(exc, msg);
        return NULL;
    }
    if (mp_owner_dead(o)) {
        mp_err_dead("server");
        return NULL;
    }
    return ((mp_server *)o)->s;
}

/* ------------------------------------------------------------------ */
/* log_error, config_tree, server_root, mpm_query, exists_config_define, stat */

static PyObject *mod_log_error(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"message", "level", "server", NULL};
    PyObject *message, *server = Py_None, *bytes = NULL;
    int level = APLOG_ERR;
    const char *msg;
    server_rec *s;

    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|iO:log_error", kwlist,
                                     &message, &level, &server))
        return NULL;
    if (message == Py_None)
        Py_RETURN_NONE;
    if (server == Py_None)
        s = mp_main_server();
    else if ((s = server_arg(server, PyExc_TypeError,
                             "server must be a server object or None")) == NULL)
        return NULL;
    if (PyUnicode_Check(message)) {
        bytes = PyUnicode_AsEncodedString(message, "utf-8", "backslashreplace");
        if (bytes == NULL)
            return NULL;
        msg = PyBytes_AS_STRING(bytes);
    }
    else if (PyBytes_Check(message)) {
        msg = PyBytes_AS_STRING(message);
    }
    else {
        PyErr_Format(PyExc_TypeError, "log_error() message must be str, not %.100s",
                     Py_TYPE(message)->tp_name);
        return NULL;
    }
    /* Every level works, APLOG_EMERG (0) included; extra flag bits are
     * ignored (APLOG_NOERRNO is 0 anyway). */
    level = level < 0 ? APLOG_ERR : (level & APLOG_LEVELMASK);
    MP_BEGIN_BLOCKING
    mp_log_message(NULL, NULL, s, level, msg, 0);
    MP_END_BLOCKING
    Py_XDECREF(bytes);
    Py_RETURN_NONE;
}

/* One level of the configuration tree: [(directive, args), [children], ...] */
static PyObject *conftree_list(const ap_directive_t *d, int depth)
{
    PyObject *list = PyList_New(0);

    if (list == NULL)
        return NULL;
    if (depth > 100) {
        PyErr_SetString(PyExc_RecursionError, "configuration tree too deep");
        goto fail;
    }
    for (; d != NULL; d = d->next) {
        PyObject *t = PyTuple_New(2), *dir, *arg;
        if (t == NULL)
            goto fail;
        dir = mp_str(d->directive);
        arg = mp_str(d->args);
        if (dir == NULL || arg == NULL) {
            Py_XDECREF(dir);
            Py_XDECREF(arg);
            Py_DECREF(t);
            goto fail;
        }
        PyTuple_SET_ITEM(t, 0, dir);
        PyTuple_SET_ITEM(t, 1, arg);
        if (PyList_Append(list, t) < 0) {
            Py_DECREF(t);
            goto fail;
        }
        Py_DECREF(t);
        if (d->first_child != NULL) {
            PyObject *sub = conftree_list(d->first_child, depth + 1);
            if (sub == NULL)
                goto fail;
            if (PyList_Append(list, sub) < 0) {
                Py_DECREF(sub);
                goto fail;
            }
            Py_DECREF(sub);
        }
    }
    return list;
fail:
    Py_DECREF(list);
    return NULL;
}

static PyObject *mod_config_tree(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    return conftree_list(ap_conftree, 0);
}

static PyObject *mod_server_root(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    return mp_str(ap_server_root);
}

/* The default directory of the disk session stores (sessdir.c), or None. */
static PyObject *mod_session_directory(PyObject *self, PyObject *noargs)
{
    const char *dir = mp_sessdir_path();

    (void)self;
    (void)noargs;
    if (dir == NULL)
        Py_RETURN_NONE;
    return mp_str(dir);
}

static PyObject *mod_mpm_query(PyObject *self, PyObject *code)
{
    long query;
    int result = 0;

    (void)self;
    if (!PyLong_Check(code)) {
        PyErr_SetString(PyExc_TypeError, "The argument must be an integer");
        return NULL;
    }
    query = PyLong_AsLong(code);
    if (query == -1 && PyErr_Occurred())
        return NULL;
    if (query < INT_MIN || query > INT_MAX || ap_mpm_query((int)query, &result) != APR_SUCCESS)
        result = 0;
    return PyLong_FromLong(result);
}

static PyObject *mod_exists_config_define(PyObject *self, PyObject *args)
{
    const char *name;

    (void)self;
    if (!PyArg_ParseTuple(args, "s:exists_config_define", &name))
        return NULL;
    return PyBool_FromLong(ap_exists_config_define(name));
}

static PyObject *mod_stat(PyObject *self, PyObject *args)
{
    PyObject *fname = NULL, *res;
    int wanted;

    (void)self;
    if (!PyArg_ParseTuple(args, "O&i:stat", PyUnicode_FSConverter, &fname, &wanted))
        return NULL;
    res = mp_finfo_stat(PyBytes_AS_STRING(fname), (apr_int32_t)wanted);
    Py_DECREF(fname);
    return res;
}

/* ------------------------------------------------------------------ */
/* register_cleanup                                                    */

static PyObject *mod_register_cleanup(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"interpreter", "server", "callable", "data", NULL};
    PyObject *iname, *server, *callable, *data = Py_None;
    mp_interp *ip, *named = NULL;
    server_rec *s;

    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|O:register_cleanup", kwlist,
                                     &iname, &server, &callable, &data))
        return NULL;
    if ((s = server_arg(server, PyExc_ValueError,
                        "second argument must be a server object")) == NULL)
        return NULL;
    if (!PyCallable_Check(callable)) {
        PyErr_SetString(PyExc_ValueError, "third argument must be a callable object");
        return NULL;
    }
    if (iname != Py_None) {
        const char *n;
        if (!PyUnicode_Check(iname)) {
            PyErr_SetString(PyExc_TypeError, "first argument must be an interpreter name");
            return NULL;
        }
        if ((n = PyUnicode_AsUTF8(iname)) == NULL)
            return NULL;
        named = mp_interp_find(n);
    }
    /* callable and data are objects of the current interpreter, so they
     * are called (and released) there, never in another one. */
    ip = mp_interp_current();
    if (ip == NULL)
        ip = named;
    if (ip == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "register_cleanup(): no mod_python interpreter is running");
        return NULL;
    }
    if (named != NULL && named != ip)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MP_APLOGNO(0451)
                     "register_cleanup(): callable belongs to interpreter '%s'; it "
                     "will run there, not in '%s'", ip->name, named->name);
    if (mp_server_register_cleanup(ip, s, callable, data) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ */
/* Global mutexes (_global_lock & co., used by Session)              */

/* FNV-1a over the key's bytes: the same in every process of a server run
 * (Python's own str hash is randomised per process). */
static int key_hash(PyObject *key, apr_uint32_t *out)
{
    PyObject *str = NULL, *bytes;
    const unsigned char *p;
    Py_ssize_t i, n;
    apr_uint32_t h = 2166136261u;

    if (PyBytes_Check(key)) {
        bytes = Py_NewRef(key);
    }
    else {
        str = PyUnicode_Check(key) ? Py_NewRef(key) : PyObject_Str(key);
        if (str == NULL)
            return -1;
        bytes = PyUnicode_AsEncodedString(str, "utf-8", "surrogatepass");
        Py_DECREF(str);
        if (bytes == NULL)
            return -1;
    }
    p = (const unsigned char *)PyBytes_AS_STRING(bytes);
    n = PyBytes_GET_SIZE(bytes);
    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    Py_DECREF(bytes);
    *out = h;
    return 0;
}

/* Parse (server, key, index=-1) and pick the mutex index; -1 on error. */
static int lock_args(PyObject *args, PyObject *kw, const char *fname, server_rec **sp)
{
    static char *kwlist[] = {"server", "key", "index", NULL};
    PyObject *server, *key;
    int index = -1, nlocks = mp_mutex_count();
    char fmt[64];

    apr_snprintf(fmt, sizeof(fmt), "OO|i:%s", fname);
    if (!PyArg_ParseTupleAndKeywords(args, kw, fmt, kwlist, &server, &key, &index))
        return -1;
    if ((*sp = server_arg(server, PyExc_TypeError,
                          "First argument must be a server object")) == NULL)
        return -1;
    if (index == -1 && nlocks > 0) {
        apr_uint32_t h;
        if (key_hash(key, &h) < 0)
            return -1;
        /* index 0 is reserved (dbm locking); with one mutex share it */
        return nlocks > 1 ? (int)(h % (apr_uint32_t)(nlocks - 1)) + 1 : 0;
    }
    if (index < 0 || index >= nlocks) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, *sp, MP_APLOGNO(0452)
                     "%s: lock index %d is out of range for %d global mutex locks",
                     fname, index, nlocks);
        PyErr_SetString(PyExc_ValueError,
                        "Lock index is out of range for number of global mutex locks");
        return -1;
    }
    return index;
}

static PyObject *mod_global_lock(PyObject *self, PyObject *args, PyObject *kw)
{
    server_rec *s;
    apr_status_t rv;
    int i;

    (void)self;
    if ((i = lock_args(args, kw, "_global_lock", &s)) < 0)
        return NULL;
    MP_BEGIN_BLOCKING
    rv = mp_mutex_lock(i);
    MP_END_BLOCKING
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, MP_APLOGNO(0453)
                     "Failed to acquire global mutex lock at index %d", i);
        PyErr_SetString(PyExc_ValueError, "Failed to acquire global mutex lock");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *mod_global_trylock(PyObject *self, PyObject *args, PyObject *kw)
{
    server_rec *s;
    apr_status_t rv;
    int i;

    (void)self;
    if ((i = lock_args(args, kw, "_global_trylock", &s)) < 0)
        return NULL;
    rv = mp_mutex_trylock(i);
    if (rv == APR_SUCCESS)
        Py_RETURN_TRUE;
    if (APR_STATUS_IS_EBUSY(rv))
        Py_RETURN_FALSE;
    ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, MP_APLOGNO(0454)
                 "Failed to acquire global mutex lock at index %d", i);
    PyErr_SetString(PyExc_ValueError, "Failed to acquire global mutex lock");
    return NULL;
}

static PyObject *mod_global_unlock(PyObject *self, PyObject *args, PyObject *kw)
{
    server_rec *s;
    apr_status_t rv;
    int i;

    (void)self;
    if ((i = lock_args(args, kw, "_global_unlock", &s)) < 0)
        return NULL;
    rv = mp_mutex_unlock(i);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, MP_APLOGNO(0455)
                     "Failed to release global mutex lock at index %d", i);
        PyErr_SetString(PyExc_ValueError, "Failed to release global mutex lock");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *mod_mutex_count(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    return PyLong_FromLong(mp_mutex_count());
}

/* ------------------------------------------------------------------ */
/* Reload bindings for the importer (README: PythonAutoReload)        */

static mp_watch *current_watch(void)
{
    mp_interp *ip = mp_interp_current();
    return ip ? ip->watch : NULL;
}

static PyObject *mod_watch(PyObject *self, PyObject *args)
{
    PyObject *path = NULL;
    mp_watch *w;

    (void)self;
    if (!PyArg_ParseTuple(args, "O&:_watch", PyUnicode_FSConverter, &path))
        return NULL;
    w = current_watch();
    int stable = 1;
    if (w != NULL) {
        const char *p = PyBytes_AS_STRING(path);
        MP_BEGIN_BLOCKING
        stable = mp_watch_add(w, p);
        MP_END_BLOCKING
    }
    Py_DECREF(path);
    /* False: a writer still has the file open; do not trust a read now. */
    return PyBool_FromLong(stable);
}

static PyObject *mod_reload_poll(PyObject *self, PyObject *noargs)
{
    mp_watch *w = current_watch();
    int changed = 0;

    (void)self;
    (void)noargs;
    if (w != NULL) {
        MP_BEGIN_BLOCKING
        changed = mp_watch_poll(w);
        MP_END_BLOCKING
    }
    return PyBool_FromLong(changed);
}

/* The paths handed over by mp_watch_take(), collected without Python (the
 * callback runs under the table lock). */
typedef struct {
    apr_pool_t *p;
    apr_array_header_t *paths;    /* of const char * */
    apr_array_header_t *gone;     /* of int */
} take_baton;

static void take_cb(void *baton, const char *path, int gone)
{
    take_baton *b = baton;

    APR_ARRAY_PUSH(b->paths, const char *) = apr_pstrdup(b->p, path);
    APR_ARRAY_PUSH(b->gone, int) = gone;
}

static PyObject *take_result(apr_uint32_t gen, const take_baton *b)
{
    PyObject *list = PyList_New(0), *res;
    int i;

    if (list == NULL)
        return NULL;
    for (i = 0; b->paths != NULL && i < b->paths->nelts; i++) {
        PyObject *path, *item;
        path = PyUnicode_DecodeFSDefault(APR_ARRAY_IDX(b->paths, i, const char *));
        if (path == NULL)
            goto fail;
        item = PyTuple_Pack(2, path,
                            APR_ARRAY_IDX(b->gone, i, int) ? Py_True : Py_False);
        Py_DECREF(path);
        if (item == NULL)
            goto fail;
        if (PyList_Append(list, item) < 0) {
            Py_DECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    res = Py_BuildValue("(kO)", (unsigned long)gen, list);
    Py_DECREF(list);
    return res;
fail:
    Py_DECREF(list);
    return NULL;
}

static PyObject *mod_reload_take(PyObject *self, PyObject *noargs)
{
    mp_watch *w = current_watch();
    take_baton b = {NULL, NULL, NULL};
    apr_uint32_t gen = 0;
    PyObject *res;

    (void)self;
    (void)noargs;
    if (w != NULL) {
        if (apr_pool_create(&b.p, NULL) != APR_SUCCESS)
            return PyErr_NoMemory();
        b.paths = apr_array_make(b.p, 8, sizeof(const char *));
        b.gone = apr_array_make(b.p, 8, sizeof(int));
        mp_watch_take(w, take_cb, &b, &gen);
    }
    res = take_result(gen, &b);
    if (b.p != NULL)
        apr_pool_destroy(b.p);
    return res;
}

static PyObject *mod_reload_ack(PyObject *self, PyObject *arg)
{
    mp_watch *w = current_watch();
    unsigned long gen;

    (void)self;
    if (!PyLong_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "_reload_ack() takes an int generation");
        return NULL;
    }
    gen = PyLong_AsUnsignedLongMask(arg);
    if (gen == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    if (w != NULL)
        mp_watch_ack(w, (apr_uint32_t)gen);
    Py_RETURN_NONE;
}

/* importer: what load() returns may have changed (see mp_interp.import_gen). */
static PyObject *mod_importer_changed(PyObject *self, PyObject *noargs)
{
    mp_interp *ip = mp_interp_current();

    (void)self;
    (void)noargs;
    if (ip != NULL)
        ip->import_gen++;
    Py_RETURN_NONE;
}

/* The request object (in this interpreter) of the dispatch running on this
 * thread, None outside of one (or when it has none here). */
static PyObject *mod_current_request(PyObject *self, PyObject *noargs)
{
    request_rec *r = mp_current_request();
    mp_interp *ip = r ? mp_interp_current() : NULL;
    PyObject *o = ip ? mp_reqstate_object(r, ip) : NULL;

    (void)self;
    (void)noargs;
    if (o == NULL)
        Py_RETURN_NONE;
    Py_INCREF(o);
    return o;
}

/* Flags of the dispatch running on this thread (apache._DEBUG, ...), None
 * outside of one. */
static PyObject *mod_dispatch_flags(PyObject *self, PyObject *noargs)
{
    int flags = mp_current_flags();

    (void)self;
    (void)noargs;
    if (flags < 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(flags);
}

static PyObject *mod_reload_mechanism(PyObject *self, PyObject *noargs)
{
    const char *m = mp_reload_mechanism();

    (void)self;
    (void)noargs;
    return mp_str(m ? m : "stat");
}

static PyObject *mod_watch_count(PyObject *self, PyObject *noargs)
{
    mp_watch *w = current_watch();

    (void)self;
    (void)noargs;
    return PyLong_FromLong(w ? mp_watch_count(w) : 0);
}

/* ------------------------------------------------------------------ */
/* Module definition                                                   */

#define KW_METH(name, fn, doc) \
    {name, (PyCFunction)(void (*)(void))fn, METH_VARARGS | METH_KEYWORDS, doc}

static PyMethodDef mp_module_methods[] = {
    KW_METH("log_error", mod_log_error,
            "log_error(message, level=APLOG_ERR, server=None)"),
    {"config_tree", mod_config_tree, METH_NOARGS, "httpd's parsed configuration tree"},
    {"server_root", mod_server_root, METH_NOARGS, "ServerRoot"},
    {"mpm_query", mod_mpm_query, METH_O, "ap_mpm_query(code) -> int"},
    {"exists_config_define", mod_exists_config_define, METH_VARARGS,
     "True if httpd was started with -Dname"},
    {"stat", mod_stat, METH_VARARGS, "stat(fname, wanted) -> mp_finfo"},
    KW_METH("register_cleanup", mod_register_cleanup,
            "register_cleanup(interpreter, server, callable, data=None)"),
    KW_METH("parse_qs", mp_module_parse_qs,
            "parse_qs(qs, keep_blank_values=0, strict_parsing=0) -> dict"),
    KW_METH("parse_qsl", mp_module_parse_qsl,
            "parse_qsl(qs, keep_blank_values=0, strict_parsing=0) -> list"),
    KW_METH("_global_lock", mod_global_lock, "_global_lock(server, key, index=-1)"),
    KW_METH("_global_unlock", mod_global_unlock, "_global_unlock(server, key, index=-1)"),
    KW_METH("_global_trylock", mod_global_trylock,
            "_global_trylock(server, key, index=-1) -> bool"),
    {"_mutex_count", mod_mutex_count, METH_NOARGS, "number of global mutexes"},
    {"_session_directory", mod_session_directory, METH_NOARGS,
     "default directory of FileSession/DbmSession, or None"},
    {"_watch", mod_watch, METH_VARARGS, "watch a module file for autoreload"},
    {"_reload_poll", mod_reload_poll, METH_NOARGS, "anything changed?"},
    {"_reload_take", mod_reload_take, METH_NOARGS, "-> (gen, [(path, gone), ...])"},
    {"_reload_ack", mod_reload_ack, METH_O, "acknowledge a generation"},
    {"_importer_changed", mod_importer_changed, METH_NOARGS,
     "the importer's state changed (handler caches revalidate)"},
    {"_current_request", mod_current_request, METH_NOARGS,
     "the request of the dispatch running on this thread, or None"},
    {"_dispatch_flags", mod_dispatch_flags, METH_NOARGS,
     "flags of the dispatch running on this thread, or None"},
    {"_reload_mechanism", mod_reload_mechanism, METH_NOARGS, "'inotify' or 'stat'"},
    {"_watch_count", mod_watch_count, METH_NOARGS, "number of watched files"},
    {NULL, NULL, 0, NULL}
};

static int types_ready(void)
{
    static int done = 0;

    if (done)
        return 0;
    if (mp_table_type_init() < 0 || mp_hlist_type_init() < 0
        || mp_finfo_type_init() < 0 || mp_server_type_init() < 0
        || mp_conn_type_init() < 0 || mp_request_type_init() < 0
        || mp_filter_type_init() < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "_apache: readying the types failed");
        return -1;
    }
    done = 1;
    return 0;
}

static int add_types(PyObject *m)
{
    static const struct {
        const char *name;
        PyTypeObject *type;
    } types[] = {
        {"table", &MpTable_Type},
        {"mp_table", &MpTable_Type},
        {"mp_hlist", &MpHList_Type},
        {"mp_finfo", &MpFinfo_Type},
        {"mp_server", &MpServer_Type},
        {"mp_conn", &MpConn_Type},
        {"mp_request", &MpRequest_Type},
        {"mp_filter", &MpFilter_Type},
    };
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (PyModule_AddObjectRef(m, types[i].name, (PyObject *)types[i].type) < 0)
            return -1;
    }
    return 0;
}

/* RequestBodyError.__str__: the reason req.read() gave, else the status. */
static PyObject *body_error_str(PyObject *unused, PyObject *self)
{
    PyObject *why = PyObject_GetAttrString(self, "strerror"), *args;

    (void)unused;
    if (why != NULL && PyUnicode_Check(why))
        return why;
    Py_XDECREF(why);
    PyErr_Clear();
    args = PyObject_GetAttrString(self, "args");
    why = args ? PyObject_Str(args) : NULL;
    Py_XDECREF(args);
    return why;
}

static PyMethodDef body_error_str_def = {"__str__", body_error_str, METH_O, NULL};

/* _apache.RequestBodyError(status): what req.read() raises when the body
 * cannot be read -- a SERVER_RETURN (uncaught, the client gets status) that
 * is also an OSError (3.5 raised IOError; code catching it keeps working). */
static int add_body_error(PyObject *m, PyObject *server_return)
{
    PyObject *bases, *dict, *fn, *meth = NULL, *cls = NULL;
    int rc = -1;

    bases = PyTuple_Pack(2, server_return, PyExc_OSError);
    dict = PyDict_New();
    fn = PyCFunction_New(&body_error_str_def, NULL);
    if (fn != NULL)
        meth = PyInstanceMethod_New(fn);
    if (bases != NULL && dict != NULL && meth != NULL
        && PyDict_SetItemString(dict, "__str__", meth) == 0)
        cls = PyErr_NewExceptionWithDoc("_apache.RequestBodyError",
                                        "The request body could not be read; args[0] is "
                                        "the HTTP status httpd maps the failure to.",
                                        bases, dict);
    if (cls != NULL)
        rc = PyModule_AddObjectRef(m, "RequestBodyError", cls);
    Py_XDECREF(cls);
    Py_XDECREF(meth);
    Py_XDECREF(fn);
    Py_XDECREF(dict);
    Py_XDECREF(bases);
    return rc;
}

static int mp_module_exec(PyObject *m)
{
    mp_module_state *st = module_state(m);

    if (types_ready() < 0 || add_types(m) < 0)
        return -1;
    st->server_return = PyErr_NewException("_apache.SERVER_RETURN", PyExc_Exception, NULL);
    if (st->server_return == NULL)
        return -1;
    if (PyModule_AddObjectRef(m, "SERVER_RETURN", st->server_return) < 0
        || add_body_error(m, st->server_return) < 0)
        return -1;
    return mp_module_add_constants(m);
}

static int mp_module_traverse(PyObject *m, visitproc visit, void *arg)
{
    mp_module_state *st = module_state(m);

    if (st != NULL)
        Py_VISIT(st->server_return);
    return 0;
}

static int mp_module_clear(PyObject *m)
{
    mp_module_state *st = module_state(m);

    if (st != NULL)
        Py_CLEAR(st->server_return);
    return 0;
}

static void mp_module_free(void *m)
{
    mp_module_clear((PyObject *)m);
}

static PyModuleDef_Slot mp_module_slots[] = {
    {Py_mod_exec, (void *)mp_module_exec},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED},
#endif
    {0, NULL}
};

static struct PyModuleDef mp_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_apache",
    .m_doc = "mod_python's built-in module: httpd functions, constants, SERVER_RETURN.",
    .m_size = sizeof(mp_module_state),
    .m_methods = mp_module_methods,
    .m_slots = mp_module_slots,
    .m_traverse = mp_module_traverse,
    .m_clear = mp_module_clear,
    .m_free = mp_module_free,
};

PyObject *mp_apache_module_init(void)
{
    return PyModuleDef_Init(&mp_module_def);
}
