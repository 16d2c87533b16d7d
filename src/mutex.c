/*
 * mutex.c - the global (cross-process, cross-thread) mutexes behind
 * _apache._global_lock() and friends (Session, PSP's dbm cache).
 *
 * Created in the httpd parent at post_config (second pass), re-attached in
 * every child.  No Python in here: the parent never runs Python, and the
 * lock calls are made with the GIL released.
 *
 * httpd's own mutex framework (ap_mutex_register) needs a pre_config
 * registration, so the mutexes are made with apr_global_mutex_create()
 * directly, using APR's default mechanism and a lock file per mutex.
 */
#include "mp_common.h"
#include "mp_mutex.h"
#include "mp_config.h"
#include "unixd.h"

#define MP_MUTEX_DEFAULT_LOCKS 8
#define MP_OPT_MUTEX_DIR   "mod_python.mutex_directory"
#define MP_OPT_MUTEX_LOCKS "mod_python.mutex_locks"

/* Process-wide state: set in the parent, inherited by the children. */
static apr_global_mutex_t **mp_mutexes = NULL;
static const char **mp_mutex_files = NULL;
static int mp_nmutex = 0;

/* A main-server PythonOption: server-level table first, then the
 * top-level per-directory defaults (where PythonOption may also land). */
static const char *main_option(server_rec *s, const char *key)
{
    const mp_srv_cfg *sc = mp_srv_config(s);
    const char *v = NULL;

    if (sc != NULL && sc->options != NULL)
        v = apr_table_get(sc->options, key);
    if ((v == NULL || *v == '\0') && s->lookup_defaults != NULL) {
        const mp_dir_cfg *dc = mp_dir_config(s->lookup_defaults);
        if (dc != NULL)
            v = mp_layer_get(dc->options, key);
    }
    return (v != NULL && *v != '\0') ? v : NULL;
}

/* Number of mutexes wanted: the option (or 8), capped by what the MPM can
 * run at once (max threads x max daemons, each factor at least 1). */
static int wanted_count(server_rec *s, int *max_procs, int *max_threads)
{
    const char *opt = main_option(s, MP_OPT_MUTEX_LOCKS);
    int locks = MP_MUTEX_DEFAULT_LOCKS;
    int procs = 0, threads = 0;

    if (opt != NULL) {
        char *end;
        long v = strtol(opt, &end, 10);
        if (*end != '\0' || v < 0 || v > 65536)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MP_APLOGNO(0900)
                         "PythonOption " MP_OPT_MUTEX_LOCKS " '%s' is not a valid "
                         "count; using %d", opt, MP_MUTEX_DEFAULT_LOCKS);
        else
            locks = (int)v;
    }
    if (ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &procs) != APR_SUCCESS || procs <= 0)
        procs = 1;
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads <= 0)
        threads = 1;
    *max_procs = procs;
    *max_threads = threads;
    if ((apr_int64_t)procs * threads < locks)
        locks = procs * threads;
    return locks;
}

static const char *mutex_dir(apr_pool_t *p, server_rec *s)
{
    const char *dir = main_option(s, MP_OPT_MUTEX_DIR);

    if (dir == NULL)
        dir = ap_runtime_dir_relative(p, "");
    else
        dir = ap_server_root_relative(p, dir);
    return dir;
}

/* Create mutex n; APR status. */
static apr_status_t create_one(apr_pool_t *pconf, server_rec *s, const char *dir, int n)
{
    const char *fname;
    apr_status_t rv;

    fname = apr_psprintf(pconf, "%s/mpmtx%" APR_PID_T_FMT "%d", dir, getpid(), n);
    /* A stale file from an earlier run with the same pid would make an
     * exclusive create fail. */
    apr_file_remove(fname, pconf);
    rv = apr_global_mutex_create(&mp_mutexes[n], fname, APR_LOCK_DEFAULT, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, MP_APLOGNO(0902)
                     "Failed to create global mutex %d of %d (file %s)",
                     n, mp_nmutex, fname);
        mp_mutexes[n] = NULL;
        return rv;
    }
    mp_mutex_files[n] = fname;
#if !defined(OS2) && !defined(WIN32) && !defined(BEOS) && !defined(NETWARE)
    rv = ap_unixd_set_global_mutex_perms(mp_mutexes[n]);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, MP_APLOGNO(0903)
                     "Failed to set permissions on global mutex %d (file %s)", n, fname);
        apr_global_mutex_destroy(mp_mutexes[n]);
        mp_mutexes[n] = NULL;
        return rv;
    }
#endif
    return APR_SUCCESS;
}

/* Forget the process-wide pointers when pconf goes (restart): the mutexes
 * themselves are destroyed by APR's own pool cleanups. */
static apr_status_t forget_mutexes(void *data)
{
    (void)data;
    mp_mutexes = NULL;
    mp_mutex_files = NULL;
    mp_nmutex = 0;
    return APR_SUCCESS;
}

int mp_mutex_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    int max_procs, max_threads, want, n, keep;
    const char *dir;

    (void)ptemp;
    forget_mutexes(NULL);
    want = wanted_count(s, &max_procs, &max_threads);
    dir = mutex_dir(pconf, s);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, MP_APLOGNO(0904)
                 "Creating %d session mutexes based on %d max processes and %d max "
                 "threads.", want, max_procs, max_threads);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, MP_APLOGNO(0905)
                 "Using mutex directory %s", dir);
    if (want <= 0)
        return OK;

    mp_mutexes = apr_pcalloc(pconf, sizeof(*mp_mutexes) * (apr_size_t)want);
    mp_mutex_files = apr_pcalloc(pconf, sizeof(*mp_mutex_files) * (apr_size_t)want);
    mp_nmutex = want;
    apr_pool_cleanup_register(pconf, NULL, forget_mutexes, apr_pool_cleanup_null);

    for (n = 0; n < want; n++) {
        if (create_one(pconf, s, dir, n) != APR_SUCCESS)
            break;
    }
    if (n == want)
        return OK;

    if (n == 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MP_APLOGNO(0906)
                     "Could not create any global mutex in %s; set PythonOption "
                     MP_OPT_MUTEX_DIR " to a writable directory", dir);
        mp_nmutex = 0;
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* Give back two (one as a margin for whoever needs the resource next),
     * but keep at least one. */
    keep = n > 2 ? n - 2 : 1;
    while (n > keep) {
        n--;
        apr_global_mutex_destroy(mp_mutexes[n]);
        mp_mutexes[n] = NULL;
    }
    mp_nmutex = keep;
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MP_APLOGNO(0907)
                 "Continuing with %d global mutexes instead of %d", keep, want);
    return OK;
}

void mp_mutex_child_init(apr_pool_t *pchild, server_rec *s)
{
    int i;

    for (i = 0; i < mp_nmutex; i++) {
        apr_status_t rv;
        if (mp_mutexes[i] == NULL)
            continue;
        rv = apr_global_mutex_child_init(&mp_mutexes[i], mp_mutex_files[i], pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, MP_APLOGNO(0908)
                         "Failed to re-attach global mutex %d (file %s) in child %"
                         APR_PID_T_FMT, i, mp_mutex_files[i], getpid());
            mp_mutexes[i] = NULL;
        }
    }
}

int mp_mutex_count(void)
{
    return mp_nmutex;
}

static apr_global_mutex_t *mutex_at(int i)
{
    if (i < 0 || i >= mp_nmutex || mp_mutexes == NULL)
        return NULL;
    return mp_mutexes[i];
}

apr_status_t mp_mutex_lock(int i)
{
    apr_global_mutex_t *m = mutex_at(i);
    return m ? apr_global_mutex_lock(m) : APR_ENOLOCK;
}

apr_status_t mp_mutex_trylock(int i)
{
    apr_global_mutex_t *m = mutex_at(i);
    return m ? apr_global_mutex_trylock(m) : APR_ENOLOCK;
}

apr_status_t mp_mutex_unlock(int i)
{
    apr_global_mutex_t *m = mutex_at(i);
    return m ? apr_global_mutex_unlock(m) : APR_ENOLOCK;
}
