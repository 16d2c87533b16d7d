/*
 * mp_interp.h - Python's life in a child process: start-up, the registry of
 * named (sub-)interpreters, and per-thread thread states.
 *
 * Rules (see README "Threads and interpreters"):
 *  - Python starts in child_init, never in the httpd parent.
 *  - Every OS thread owns one PyThreadState per interpreter it has used; a
 *    thread state is never handed to another thread.  A thread's first
 *    thread state is always the main interpreter's, made with
 *    PyGILState_Ensure(), so extensions using the PyGILState API find it.
 *  - mp_interp_enter()/mp_interp_leave() nest: code that already holds the
 *    GIL (in any interpreter) may enter another interpreter.
 *  - Around every blocking httpd call, release the GIL with
 *    MP_BEGIN_BLOCKING / MP_END_BLOCKING (never Py_BEGIN_ALLOW_THREADS), so
 *    that filters re-entered from inside ap_rwrite() etc. work.
 */
#ifndef MP_INTERP_H
#define MP_INTERP_H

#include "mp_common.h"

struct mp_watch;

typedef struct mp_interp mp_interp;
struct mp_interp {
    const char *name;
    int index;                        /* 0 = main interpreter */
    PyInterpreterState *istate;
    int ready;                        /* init callback ran successfully */
    /* filled by the init callback (dispatch.c), owned by this interpreter */
    PyObject *callback;               /* mod_python.apache.CallBack instance */
    PyObject *m_handler;              /* bound CallBack.HandlerDispatch */
    PyObject *m_resolve;              /* HandlerResolve (dispatch.c's handler cache) */
    PyObject *m_result;               /* HandlerResult */
    PyObject *m_filter;               /* FilterDispatch */
    PyObject *m_connection;           /* ConnectionDispatch */
    PyObject *m_include;              /* IncludeDispatch */
    PyObject *m_import;               /* ImportDispatch */
    PyObject *m_sync;                 /* importer sync (take reload changes) */
    struct mp_watch *watch;           /* reload.c table of this interpreter */
    unsigned import_gen;              /* bumped (GIL held) whenever what the importer's
                                         load() returns may have changed: dispatch.c's
                                         cached handlers revalidate against it */
    PyThreadState *anchor;            /* the state Py_NewInterpreter() made: never
                                         deleted (CPython 3.11 aborts when a new state
                                         is made for an interpreter that has none) */
    const char *venv;                 /* PythonVirtualEnv it was set up with, or NULL */
    volatile apr_uint32_t venv_warned;
};

/* Called once per interpreter, GIL held, current thread state in ip. */
typedef int (*mp_interp_init_fn)(mp_interp *ip, void *baton);

typedef struct {
    int optimize;                     /* PythonOptimize */
    const char *python_bin;           /* used as program_name for path computation */
    PyObject *(*apache_init)(void);   /* PyInit__apache, appended to the inittab */
    PyObject *(*psp_init)(void);      /* PyInit__psp (NULL: not built in) */
} mp_python_settings;

/* Start Python in this child; registers a pchild cleanup.  APR_SUCCESS or error. */
apr_status_t mp_interp_child_init(apr_pool_t *pchild, server_rec *s,
                                  const mp_python_settings *settings);
/* Python is up in this process. */
int mp_interp_python_ready(void);
/* The child's main server and pool: the one copy, set by
 * mp_interp_child_init().  Before that, mp_main_server() is httpd's
 * ap_server_conf and mp_child_pool() NULL. */
server_rec *mp_main_server(void);
apr_pool_t *mp_child_pool(void);

/* Get (creating it if needed) the named interpreter; NULL name = main.
 * May be called with or without the GIL.  NULL on failure (logged).
 * A new interpreter's sys.path gets mod_python's package directory and the
 * PythonVirtualEnv of s (NULL: the main server), before its init runs. */
mp_interp *mp_interp_get(const char *name, mp_interp_init_fn init, void *baton,
                         server_rec *s);
/* Look up an existing interpreter by name; NULL if none. No creation. */
mp_interp *mp_interp_find(const char *name);
/* The interpreter this thread currently runs Python in (NULL if none). */
mp_interp *mp_interp_current(void);
/* What mp_interp_enter() did, so that mp_interp_leave() undoes exactly that. */
typedef enum {
    MP_GIL_TAKEN,      /* took the GIL: leave releases it */
    MP_GIL_SWAPPED,    /* GIL held in another interpreter: leave swaps back */
    MP_GIL_NESTED      /* already current: leave does nothing */
} mp_gil_mode;

typedef struct {
    PyThreadState *prev;
    mp_gil_mode mode;
} mp_gil_token;

/* Make ip current on this thread with the GIL held. */
void mp_interp_enter(mp_interp *ip, mp_gil_token *tok);
/* Undo the matching enter. */
void mp_interp_leave(mp_gil_token *tok);

/* The child pool is not thread-safe: register child-exit work through this
 * (serialised) instead of calling apr_pool_cleanup_register(pchild) at
 * request time.  fn runs without the GIL, before Python's own exit work.
 * APR_EINIT (logged, nothing registered) before mp_interp_child_init(). */
apr_status_t mp_interp_at_child_exit(apr_status_t (*fn)(void *), void *data);

/* check_config hook: refuse to run beside another module that embeds
 * Python (mod_wsgi), with one error line; OK otherwise. */
int mp_interp_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                           server_rec *s);

/* Release / re-take the GIL around blocking calls (GIL must be held). */
PyThreadState *mp_interp_release(void);
void mp_interp_reacquire(PyThreadState *ts);

#define MP_BEGIN_BLOCKING { PyThreadState *mp__save = mp_interp_release();
#define MP_END_BLOCKING   mp_interp_reacquire(mp__save); }

#endif /* MP_INTERP_H */
