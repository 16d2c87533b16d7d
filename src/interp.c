/*
 * interp.c - Python's life in one child process.
 *
 * Python starts in child_init (never in the root parent).  Interpreters
 * are kept by name in a registry and never destroyed.  Each OS thread owns
 * one PyThreadState per interpreter it has used (mp_thread below); thread
 * states are never pooled or handed to another thread, which is what made
 * mod_python 3.5 crash under the worker and event MPMs.
 *
 * A thread's first thread state is always the main interpreter's, created
 * with PyGILState_Ensure(): the PyGILState slot of the thread is then bound
 * to the main interpreter for good, and C extensions that use the
 * PyGILState API find a valid thread state.  We never call
 * PyGILState_Release() for it, so it lives until the thread ends, when the
 * thread-key destructor clears and deletes all of the thread's states.
 *
 * Lock order: create_mutex -> GIL -> reg_mutex.  reg_mutex is never held
 * while waiting for the GIL, and create_mutex is never taken with the GIL
 * held (mp_interp_get() releases it first).
 */
#include "mp_common.h"
#include "mp_interp.h"
#include "mp_config.h"
#include "mp_venv.h"
#include "mp_log.h"

#include <stdlib.h>

typedef struct {
    PyThreadState **ts;        /* indexed by mp_interp.index */
    int n;
    PyThreadState *active;     /* our thread state holding the GIL, or NULL */
} mp_thread;

static _Thread_local mp_thread *tls;
static _Thread_local mp_interp *last_ready;   /* mp_interp_get()'s one-entry cache, */
static _Thread_local unsigned last_ready_gen; /* valid while == registry_gen */
static unsigned registry_gen;                 /* bumped by each mp_interp_child_init */
static apr_threadkey_t *thread_key;

static apr_pool_t *child_pool;       /* pchild: set once, by mp_interp_child_init */
static apr_pool_t *interp_pool;      /* allocations under create_mutex/reg_mutex; not
                                        a sub-pool of pchild, which would be gone
                                        before child_exit() (pchild's cleanup) runs */
static apr_thread_mutex_t *reg_mutex;
static apr_thread_mutex_t *create_mutex;
static apr_thread_mutex_t *exit_mutex;
static apr_hash_t *registry;         /* name -> mp_interp* */
static mp_interp **interps;
static int n_interps, cap_interps;
static volatile int python_up;

static mp_interp *interp_at(int index);
static server_rec *main_server;      /* set with child_pool */

int mp_interp_python_ready(void)
{
    return python_up;
}

server_rec *mp_main_server(void)
{
    return main_server ? main_server : ap_server_conf;
}

apr_pool_t *mp_child_pool(void)
{
    return child_pool;
}

/* ------------------------------------------------------------ threads */

static void thread_exit(void *data)
{
    mp_thread *t = data;
    int i;

    if (t == NULL)
        return;
    if (python_up) {
        /* Sub-interpreter states first, the main (PyGILState) one last. */
        for (i = t->n - 1; i >= 0; i--) {
            mp_interp *ip = interp_at(i);
            if (t->ts[i] == NULL || (ip != NULL && ip->anchor == t->ts[i]))
                continue;
            PyEval_RestoreThread(t->ts[i]);
            PyThreadState_Clear(t->ts[i]);
            PyThreadState_DeleteCurrent();
        }
    }
    free(t->ts);
    free(t);
}

static mp_thread *get_thread(void)
{
    if (tls == NULL) {
        tls = calloc(1, sizeof(*tls));
        if (tls == NULL)
            return NULL;
        if (thread_key != NULL)
            apr_threadkey_private_set(tls, thread_key);
    }
    return tls;
}

static int thread_grow(mp_thread *t, int index)
{
    if (index < t->n)
        return 0;
    int n = index + 4;
    PyThreadState **ts = realloc(t->ts, sizeof(*ts) * (size_t)n);
    if (ts == NULL)
        return -1;
    memset(ts + t->n, 0, sizeof(*ts) * (size_t)(n - t->n));
    t->ts = ts;
    t->n = n;
    return 0;
}

/* This thread's state for ip, created on first use. */
static PyThreadState *thread_state_for(mp_thread *t, mp_interp *ip)
{
    if (thread_grow(t, ip->index) < 0)
        return NULL;
    if (t->ts[0] == NULL) {
        /* First Python use on this thread: bind its PyGILState slot to the
         * main interpreter.  The GIL is not held here (see file comment). */
        (void)PyGILState_Ensure();
        t->ts[0] = PyEval_SaveThread();
    }
    if (t->ts[ip->index] == NULL)
        t->ts[ip->index] = PyThreadState_New(ip->istate);
    return t->ts[ip->index];
}

void mp_interp_enter(mp_interp *ip, mp_gil_token *tok)
{
    mp_thread *t = get_thread();
    PyThreadState *ts;

    if (t == NULL || (ts = thread_state_for(t, ip)) == NULL) {
        /* Out of memory: nothing sane is left to do. */
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, main_server,
                     MP_APLOGNO(0100) "cannot allocate a Python thread state");
        abort();
    }
    if (t->active == NULL) {
        PyEval_RestoreThread(ts);
        tok->mode = MP_GIL_TAKEN;
        tok->prev = NULL;
    }
    else if (t->active == ts) {
        tok->mode = MP_GIL_NESTED;
        tok->prev = ts;
    }
    else {
        tok->prev = PyThreadState_Swap(ts);
        tok->mode = MP_GIL_SWAPPED;
    }
    t->active = ts;
}

void mp_interp_leave(mp_gil_token *tok)
{
    mp_thread *t = tls;

    switch (tok->mode) {
    case MP_GIL_TAKEN:
        PyEval_SaveThread();
        t->active = NULL;
        break;
    case MP_GIL_SWAPPED:
        PyThreadState_Swap(tok->prev);
        t->active = tok->prev;
        break;
    case MP_GIL_NESTED:
        break;
    }
}

PyThreadState *mp_interp_release(void)
{
    PyThreadState *ts = PyEval_SaveThread();
    if (tls != NULL)
        tls->active = NULL;
    return ts;
}

void mp_interp_reacquire(PyThreadState *ts)
{
    PyEval_RestoreThread(ts);
    if (tls != NULL)
        tls->active = ts;
}

/* -------------------------------------------------------------- paths */

#ifndef MP_PYTHON_PKGDIR
#define MP_PYTHON_PKGDIR ""
#endif

/* Run in every new interpreter before mod_python is imported.  sys.path:
 * PYTHONPATH entries, the standard library, mod_python's package directory
 * (where `make install` put it, outside the Python's own site-packages),
 * then the virtual environment's site-packages (its .pth files processed
 * by site.addsitedir), then the system's site-packages, which stay only if
 * the environment includes them.  The mod_python package is imported before
 * the system's entries go, so a package installed there still works. */
static const char path_code[] =
    "import os, site, sys\n"
    "def _first_site():\n"
    "    known = set(site.getsitepackages())\n"
    "    for i, p in enumerate(sys.path):\n"
    "        if p in known or p.endswith(('/site-packages', '/dist-packages')):\n"
    "            return i\n"
    "    return len(sys.path)\n"
    "def setup(pkgdir, venv, venv_site, include_system):\n"
    "    if pkgdir and os.path.isdir(pkgdir) and pkgdir not in sys.path:\n"
    "        sys.path.insert(_first_site(), pkgdir)\n"
    "    try:\n"
    "        import mod_python\n"
    "    except ImportError:\n"
    "        pass\n"
    "    if not venv:\n"
    "        return\n"
    "    i = _first_site()\n"
    "    system = sys.path[i:]\n"
    "    del sys.path[i:]\n"
    "    site.addsitedir(venv_site)\n"
    "    if include_system:\n"
    "        sys.path.extend(p for p in system if p not in sys.path)\n"
    "    sys.prefix = sys.exec_prefix = venv\n"
    "    site.PREFIXES[:] = [venv]\n";

static const mp_venv *server_venv(server_rec *s)
{
    if (s == NULL)
        s = main_server;
    return s ? mp_srv_config(s)->venv : NULL;
}

/* GIL held, current thread state in the new interpreter ip. */
static void setup_paths(mp_interp *ip, const mp_venv *v)
{
    PyObject *g = PyDict_New();
    PyObject *r = g ? PyRun_String(path_code, Py_file_input, g, g) : NULL;
    PyObject *fn = r ? PyDict_GetItemString(g, "setup") : NULL;   /* borrowed */
    PyObject *res = NULL;

    if (fn != NULL)
        res = PyObject_CallFunction(fn, "szzi", MP_PYTHON_PKGDIR, v ? v->path : NULL,
                                    v ? v->site : NULL, v ? v->include_system : 0);
    if (res == NULL) {
        mp_log_py_error(NULL, NULL, main_server, "sys.path set-up");
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, main_server, MP_APLOGNO(0110)
                     "interpreter '%s': cannot set up sys.path (package directory %s, "
                     "PythonVirtualEnv %s)", ip->name, MP_PYTHON_PKGDIR,
                     v ? v->path : "none");
    }
    else if (v != NULL) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, main_server, MP_APLOGNO(0111)
                     "interpreter '%s' uses PythonVirtualEnv %s (system site-packages %s)",
                     ip->name, v->path, v->include_system ? "included" : "excluded");
    }
    ip->venv = v ? v->path : NULL;
    Py_XDECREF(res);
    Py_XDECREF(r);
    Py_XDECREF(g);
}

/* An interpreter is set up once; a server asking for another environment
 * than the one it has gets it anyway, with one warning. */
static void check_venv(mp_interp *ip, server_rec *s)
{
    const mp_venv *v = server_venv(s);
    const char *want = v ? v->path : NULL;

    if (want == ip->venv || (want && ip->venv && strcmp(want, ip->venv) == 0))
        return;
    if (apr_atomic_cas32(&ip->venv_warned, 1, 0) != 0)
        return;
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MP_APLOGNO(0112)
                 "interpreter '%s' was set up with PythonVirtualEnv %s; the virtual host "
                 "%s asks for %s and shares it anyway (give it its own interpreter, e.g. "
                 "by not setting PythonInterpreter)", ip->name,
                 ip->venv ? ip->venv : "(none)",
                 s && s->server_hostname ? s->server_hostname : "?",
                 want ? want : "(none)");
}

/* Another module that embeds Python would share this process's one Python
 * runtime, whose start, thread states and end each side believes it owns. */
int mp_interp_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    if (ap_find_linked_module("mod_wsgi.c") == NULL)
        return OK;
    ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MP_APLOGNO(0113)
                 "mod_python and mod_wsgi cannot be loaded into one httpd (both embed "
                 "Python, and each would start and end it under the other); load one of "
                 "them (a2dismod wsgi, or a2dismod python)");
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* ----------------------------------------------------------- registry */

static mp_interp *registry_lookup(const char *name)
{
    mp_interp *ip;

    apr_thread_mutex_lock(reg_mutex);
    ip = apr_hash_get(registry, name, APR_HASH_KEY_STRING);
    apr_thread_mutex_unlock(reg_mutex);
    return ip;
}

/* Called with create_mutex held (interp_pool is only used under it). */
static void registry_add(mp_interp *ip)
{
    apr_thread_mutex_lock(reg_mutex);
    if (n_interps == cap_interps) {
        int cap = cap_interps ? cap_interps * 2 : 8;
        mp_interp **a = apr_pcalloc(interp_pool, sizeof(*a) * (size_t)cap);
        if (n_interps)
            memcpy(a, interps, sizeof(*a) * (size_t)n_interps);
        interps = a;
        cap_interps = cap;
    }
    ip->index = n_interps;
    interps[n_interps++] = ip;
    apr_hash_set(registry, ip->name, APR_HASH_KEY_STRING, ip);
    apr_thread_mutex_unlock(reg_mutex);
}

static int interp_count(void)
{
    int n;
    apr_thread_mutex_lock(reg_mutex);
    n = n_interps;
    apr_thread_mutex_unlock(reg_mutex);
    return n;
}

static mp_interp *interp_at(int index)
{
    mp_interp *ip = NULL;
    apr_thread_mutex_lock(reg_mutex);
    if (index >= 0 && index < n_interps)
        ip = interps[index];
    apr_thread_mutex_unlock(reg_mutex);
    return ip;
}

mp_interp *mp_interp_find(const char *name)
{
    if (!python_up)
        return NULL;
    return registry_lookup(name && *name ? name : MP_MAIN_INTERPRETER);
}

mp_interp *mp_interp_current(void)
{
    PyInterpreterState *is;
    int i, n;

    if (tls == NULL || tls->active == NULL)
        return NULL;
    is = PyThreadState_GetInterpreter(tls->active);
    n = interp_count();
    for (i = 0; i < n; i++) {
        mp_interp *ip = interp_at(i);
        if (ip && ip->istate == is)
            return ip;
    }
    return NULL;
}

/* A new sub-interpreter; create_mutex held, GIL not held. */
static mp_interp *create_interp(const char *name, const mp_venv *venv)
{
    mp_thread *t = get_thread();
    mp_interp *ip;
    PyThreadState *nts, *main_ts;

    if (t == NULL || thread_state_for(t, interps[0]) == NULL)
        return NULL;
    main_ts = t->ts[0];
    PyEval_RestoreThread(main_ts);
    t->active = main_ts;
    /* Py_NewInterpreter() uses the legacy (shared GIL) settings on 3.12+,
     * which keep fork/exec/threads and single-phase extensions working. */
    nts = Py_NewInterpreter();
    if (nts == NULL) {
        if (PyErr_Occurred())
            mp_log_py_error(NULL, NULL, main_server, "Py_NewInterpreter");
        PyThreadState_Swap(main_ts);
        PyEval_SaveThread();
        t->active = NULL;
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, main_server,
                     MP_APLOGNO(0101) "cannot create Python interpreter '%s'", name);
        return NULL;
    }
    /* threading must be imported from a long-lived thread state, so that
     * threading._main_thread is not a request thread's. */
    PyObject *m = PyImport_ImportModule("threading");
    if (m == NULL)
        mp_log_py_error(NULL, NULL, main_server, "import threading");
    Py_XDECREF(m);
    ip = apr_pcalloc(interp_pool, sizeof(*ip));
    ip->name = apr_pstrdup(interp_pool, name);
    ip->istate = PyThreadState_GetInterpreter(nts);
    setup_paths(ip, venv);
    PyEval_SaveThread();
    t->active = NULL;

    registry_add(ip);
    if (thread_grow(t, ip->index) < 0)
        return NULL;
    t->ts[ip->index] = nts;
    ip->anchor = nts;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, main_server,
                 MP_APLOGNO(0102) "created Python interpreter '%s' in pid %" APR_PID_T_FMT,
                 name, getpid());
    return ip;
}

mp_interp *mp_interp_get(const char *name, mp_interp_init_fn init, void *baton,
                         server_rec *s)
{
    mp_interp *ip;
    PyThreadState *save = NULL;
    int held;

    if (!python_up)
        return NULL;
    if (name == NULL || *name == '\0')
        name = MP_MAIN_INTERPRETER;
    /* The thread's last ready interpreter, without reg_mutex: interpreters
     * are never destroyed and a name never changes its interpreter. */
    ip = last_ready_gen == registry_gen ? last_ready : NULL;
    if (ip == NULL || strcmp(ip->name, name) != 0)
        ip = registry_lookup(name);
    if (ip != NULL && ip->ready) {
        last_ready = ip;
        last_ready_gen = registry_gen;
        check_venv(ip, s);
        return ip;
    }

    /* Slow path: create and/or initialise.  Never wait for create_mutex
     * while holding the GIL. */
    held = (tls != NULL && tls->active != NULL);
    if (held)
        save = mp_interp_release();
    apr_thread_mutex_lock(create_mutex);
    ip = registry_lookup(name);
    if (ip == NULL)
        ip = create_interp(name, server_venv(s));
    if (ip != NULL && !ip->ready && init != NULL) {
        mp_gil_token tok;
        mp_interp_enter(ip, &tok);
        if (init(ip, baton) == 0)
            ip->ready = 1;
        mp_interp_leave(&tok);
    }
    apr_thread_mutex_unlock(create_mutex);
    if (held)
        mp_interp_reacquire(save);
    return (ip != NULL && ip->ready) ? ip : NULL;
}

/* ---------------------------------------------------------- child exit */

typedef struct exit_item {
    apr_status_t (*fn)(void *);
    void *data;
} exit_item;

apr_status_t mp_interp_at_child_exit(apr_status_t (*fn)(void *), void *data)
{
    if (child_pool == NULL || exit_mutex == NULL) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, mp_main_server(), MP_APLOGNO(0107)
                     "child-exit work registered before the child process exists: "
                     "refused");
        return APR_EINIT;
    }
    apr_thread_mutex_lock(exit_mutex);
    apr_pool_cleanup_register(child_pool, data, fn, apr_pool_cleanup_null);
    apr_thread_mutex_unlock(exit_mutex);
    return APR_SUCCESS;
}

/* Registered first on pchild, so it runs last: after every cleanup that
 * user code registered.  Runs atexit handlers in each interpreter; Python
 * is deliberately not finalised (user threads can hang or crash
 * Py_FinalizeEx, and the process is about to end anyway). */
static apr_status_t child_exit(void *data)
{
    int i, n;

    (void)data;
    if (!python_up)
        return APR_SUCCESS;
    n = interp_count();
    for (i = n - 1; i >= 0; i--) {
        mp_interp *ip = interp_at(i);
        mp_gil_token tok;
        PyObject *r;

        if (ip == NULL)
            continue;
        mp_interp_enter(ip, &tok);
        PyObject *atexit_mod = PyImport_ImportModule("atexit");
        r = atexit_mod ? PyObject_CallMethod(atexit_mod, "_run_exitfuncs", NULL) : NULL;
        Py_XDECREF(atexit_mod);
        if (r == NULL)
            mp_log_py_error(NULL, NULL, main_server, "atexit");
        Py_XDECREF(r);
        mp_interp_leave(&tok);
    }
    python_up = 0;
    return APR_SUCCESS;
}

/* ------------------------------------------------------------- start */

static apr_status_t start_python(const mp_python_settings *settings)
{
    PyConfig config;
    PyStatus status;

    if (PyImport_AppendInittab("_apache", settings->apache_init) < 0)
        return APR_EGENERAL;
    if (settings->psp_init != NULL && PyImport_AppendInittab("_psp", settings->psp_init) < 0)
        return APR_EGENERAL;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;   /* httpd owns the signals */
    config.parse_argv = 0;
    config.user_site_directory = 0;
    config.configure_c_stdio = 0;
    config.optimization_level = settings->optimize ? 2 : 0;
    status = PyConfig_SetBytesString(&config, &config.program_name,
                                     settings->python_bin);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, main_server,
                     MP_APLOGNO(0103) "Python initialisation failed: %s%s%s",
                     status.func ? status.func : "", status.func ? ": " : "",
                     status.err_msg ? status.err_msg : "unknown error");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static void log_python_identity(void)
{
    PyObject *sys = PyImport_ImportModule("sys");
    PyObject *prefix = sys ? PyObject_GetAttrString(sys, "prefix") : NULL;
    const char *p = prefix ? PyUnicode_AsUTF8(prefix) : NULL;

    if (p == NULL)
        PyErr_Clear();
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, main_server,
                 MP_APLOGNO(0104) "mod_python %s: Python %s (prefix %s) started in pid %"
                 APR_PID_T_FMT, MP_VERSION_STRING, Py_GetVersion(), p ? p : "?", getpid());
    if ((Py_Version >> 16) != ((unsigned long)PY_VERSION_HEX >> 16))
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, main_server,
                     MP_APLOGNO(0105) "mod_python was built for Python %d.%d but runs "
                     "with %s", PY_MAJOR_VERSION, PY_MINOR_VERSION, Py_GetVersion());
    Py_XDECREF(prefix);
    Py_XDECREF(sys);
}

apr_status_t mp_interp_child_init(apr_pool_t *pchild, server_rec *s,
                                  const mp_python_settings *settings)
{
    mp_interp *ip;
    mp_thread *t;
    apr_status_t rv;

    main_server = s;
    child_pool = pchild;
    if ((rv = apr_pool_create(&interp_pool, NULL)) != APR_SUCCESS
        || (rv = apr_thread_mutex_create(&reg_mutex, APR_THREAD_MUTEX_DEFAULT, pchild))
        || (rv = apr_thread_mutex_create(&create_mutex, APR_THREAD_MUTEX_DEFAULT, pchild))
        || (rv = apr_thread_mutex_create(&exit_mutex, APR_THREAD_MUTEX_DEFAULT, pchild))
        || (rv = apr_threadkey_private_create(&thread_key, thread_exit, pchild))) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     MP_APLOGNO(0106) "cannot set up mod_python's thread bookkeeping");
        return rv;
    }
    registry = apr_hash_make(interp_pool);
    registry_gen++;
    if ((rv = start_python(settings)) != APR_SUCCESS)
        return rv;

    PyObject *m = PyImport_ImportModule("threading");
    if (m == NULL)
        mp_log_py_error(NULL, NULL, s, "import threading");
    Py_XDECREF(m);
    log_python_identity();

    ip = apr_pcalloc(interp_pool, sizeof(*ip));
    ip->name = MP_MAIN_INTERPRETER;
    ip->istate = PyInterpreterState_Main();
    setup_paths(ip, server_venv(s));
    registry_add(ip);

    /* This (the child's main) thread keeps Py_Initialize's thread state as
     * its main-interpreter state: prefork serves requests on it. */
    t = get_thread();
    if (t == NULL || thread_grow(t, 0) < 0)
        return APR_ENOMEM;
    t->ts[0] = PyEval_SaveThread();
    t->active = NULL;
    python_up = 1;
    mp_log_set_gil_hooks(mp_interp_release, mp_interp_reacquire);
    apr_pool_cleanup_register(pchild, NULL, child_exit, apr_pool_cleanup_null);
    return APR_SUCCESS;
}
