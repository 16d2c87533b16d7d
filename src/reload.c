/*
 * reload.c - change detection behind PythonAutoReload.  No Python here: it
 * runs without the GIL.
 *
 * Each interpreter has an mp_watch table: the files its managed modules
 * were loaded from, each with the stat tuple (device, inode, size, mtime
 * and ctime in nanoseconds) seen just before the file was read.  Any
 * difference counts as a change: an mtime that goes backwards, a
 * same-second same-size edit (ctime moves), a rename or symlink swap (the
 * inode moves), a file that vanishes or comes back.
 *
 * Mechanism "inotify" (default on Linux): one inotify instance per child
 * watches the directories that hold watched files (and, for paths through
 * symbolic links, the directories holding each link and the real file).
 * The kernel queues an event during the write/rename call itself, so the
 * per-request poll sees every change written before the request started.
 * The poll is one ioctl(FIONREAD) and no lock while nothing is queued;
 * only when events are queued does it take the mutex and read them (see
 * queue_quiet() for why a thread that finds the queue empty can trust its
 * table's generation).  Only files named in events are stat()ed.  Cost per
 * request: O(1) in the number of watched files.
 *
 * Mechanism "stat" (fallback when inotify is unavailable, forced with
 * PythonOption mod_python.autoreload.mechanism stat): the poll stats every
 * watched file of the table, at most once per
 * mod_python.autoreload.interval seconds (default 0: every poll).  Files
 * whose directory cannot be watched (inotify limits) are stat()ed this way
 * even in inotify mode.
 */
#include "mp_common.h"
#include "mp_reload.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <stdatomic.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#define MP_HAVE_INOTIFY 1
#endif

typedef struct {
    int exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
} mp_stamp;

typedef struct mp_entry mp_entry;
struct mp_entry {
    char *path;
    mp_stamp stamp;
    int dirty;
    int polled;            /* not covered by inotify: stat()ed by every poll */
    int writing;           /* modified and not yet closed by its writer */
    mp_entry *next_dirty;
};

struct mp_watch {
    apr_pool_t *pool;          /* own root pool, used under mutex */
    apr_thread_mutex_t *mutex;
    apr_hash_t *entries;       /* path -> mp_entry* */
    apr_array_header_t *all;   /* mp_entry* */
    apr_array_header_t *polled;/* mp_entry* with polled=1 */
    mp_entry *dirty;           /* list of dirty entries */
    apr_uint32_t gen;          /* bumped when an entry becomes dirty */
    apr_uint32_t acked;        /* gen handed to and applied by the importer */
    apr_time_t next_scan;      /* stat mode */
    mp_watch *next;            /* all tables of this child */
};

/* One (directory, name) registration: an event for `name` in the watched
 * directory makes `entry` of `w` suspect. */
typedef struct mp_reg mp_reg;
struct mp_reg {
    char *name;
    mp_watch *w;
    mp_entry *entry;
    mp_reg *next;
};

typedef struct {
    int wd;
    char *dir;
    mp_reg *regs;
} mp_dirwatch;

static mp_reload_mode mode = MP_RELOAD_STAT;
static apr_interval_time_t scan_interval;
static int ino_fd = -1;
static apr_pool_t *ino_pool;           /* used under ino_mutex */
static apr_thread_mutex_t *ino_mutex;
static apr_hash_t *by_wd;              /* int wd -> mp_dirwatch* */
#ifdef MP_HAVE_INOTIFY
static atomic_uint draining;           /* threads inside drain() */
#endif
static mp_watch *tables;
static server_rec *log_server;

const char *mp_reload_mechanism(void)
{
    return mode == MP_RELOAD_INOTIFY ? "inotify" : "stat";
}

static void stamp_of(const char *path, mp_stamp *st)
{
    struct stat sb;

    memset(st, 0, sizeof(*st));
    if (stat(path, &sb) != 0)
        return;
    st->exists = 1;
    st->dev = sb.st_dev;
    st->ino = sb.st_ino;
    st->size = sb.st_size;
    st->mtime = sb.st_mtim;
    st->ctime = sb.st_ctim;
}

static int stamp_differs(const mp_stamp *a, const mp_stamp *b)
{
    return a->exists != b->exists || a->dev != b->dev || a->ino != b->ino
        || a->size != b->size
        || a->mtime.tv_sec != b->mtime.tv_sec || a->mtime.tv_nsec != b->mtime.tv_nsec
        || a->ctime.tv_sec != b->ctime.tv_sec || a->ctime.tv_nsec != b->ctime.tv_nsec;
}

/* Re-stat e; mark it dirty if it changed.  w->mutex held. */
static void recheck(mp_watch *w, mp_entry *e)
{
    mp_stamp now;

    stamp_of(e->path, &now);
    if (!stamp_differs(&now, &e->stamp))
        return;
    e->stamp = now;
    if (!e->dirty) {
        e->dirty = 1;
        e->next_dirty = w->dirty;
        w->dirty = e;
    }
    apr_atomic_inc32(&w->gen);
}

/* ------------------------------------------------------------ inotify */

#ifdef MP_HAVE_INOTIFY
#define MP_DIR_MASK (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO \
                     | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

/* Register (dir, name) -> e.  ino_mutex held.  0 on success.  Every
 * (re)load registers again, so nothing is allocated (in ino_pool, which
 * lives as long as the child) unless the directory or the registration is
 * new. */
static int watch_dir(mp_watch *w, mp_entry *e, const char *dir, const char *name)
{
    int wd = inotify_add_watch(ino_fd, dir, MP_DIR_MASK);
    mp_dirwatch *dw;
    mp_reg *reg;

    if (wd < 0) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, errno, log_server, MP_APLOGNO(0300)
                     "inotify cannot watch '%s'; it will be checked with stat()", dir);
        return -1;
    }
    dw = apr_hash_get(by_wd, &wd, sizeof(wd));
    if (dw == NULL) {
        dw = apr_pcalloc(ino_pool, sizeof(*dw));
        dw->wd = wd;
        dw->dir = apr_pstrdup(ino_pool, dir);
        apr_hash_set(by_wd, &dw->wd, sizeof(dw->wd), dw);
    }
    for (reg = dw->regs; reg != NULL; reg = reg->next)
        if (reg->entry == e && strcmp(reg->name, name) == 0)
            return 0;
    reg = apr_pcalloc(ino_pool, sizeof(*reg));
    reg->name = apr_pstrdup(ino_pool, name);
    reg->w = w;
    reg->entry = e;
    reg->next = dw->regs;
    dw->regs = reg;
    return 0;
}

static int watch_split(mp_watch *w, mp_entry *e, const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    size_t len;

    if (slash == NULL)
        return -1;
    len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= sizeof(dir))
        return -1;
    memcpy(dir, path, len);
    dir[len] = '\0';
    return watch_dir(w, e, dir, slash + 1);
}

/* Watch everything whose change can change what `path` names: its
 * directory, every symbolic link on the way (in the directory holding the
 * link) and the real file's directory.  ino_mutex held. */
static int watch_path(mp_watch *w, mp_entry *e)
{
    char buf[PATH_MAX], real[PATH_MAX];
    struct stat sb;
    char *p;
    int rc = watch_split(w, e, e->path);

    if (rc != 0)
        return rc;
    if (strlen(e->path) >= sizeof(buf))
        return 0;
    strcpy(buf, e->path);
    for (p = strchr(buf + 1, '/'); ; p = strchr(p + 1, '/')) {
        if (p != NULL)
            *p = '\0';
        if (lstat(buf, &sb) == 0 && S_ISLNK(sb.st_mode) && watch_split(w, e, buf) != 0)
            rc = -1;
        if (p == NULL)
            break;
        *p = '/';
    }
    if (realpath(e->path, real) != NULL && strcmp(real, e->path) != 0
        && watch_split(w, e, real) != 0)
        rc = -1;
    return rc;
}

static void mark_all(void)
{
    mp_watch *w;
    int i;

    for (w = tables; w != NULL; w = w->next) {
        apr_thread_mutex_lock(w->mutex);
        for (i = 0; i < w->all->nelts; i++)
            recheck(w, APR_ARRAY_IDX(w->all, i, mp_entry *));
        apr_thread_mutex_unlock(w->mutex);
    }
}

static void handle_event(const struct inotify_event *ev)
{
    mp_dirwatch *dw;
    mp_reg *reg;
    int whole = (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0;

    if (ev->mask & IN_Q_OVERFLOW) {
        mark_all();
        return;
    }
    dw = apr_hash_get(by_wd, &ev->wd, sizeof(ev->wd));
    if (dw == NULL)
        return;
    for (reg = dw->regs; reg != NULL; reg = reg->next) {
        if (!whole && (ev->len == 0 || strcmp(reg->name, ev->name) != 0))
            continue;
        apr_thread_mutex_lock(reg->w->mutex);
        if ((ev->mask & IN_MODIFY) && !(ev->mask & ~(IN_MODIFY | IN_ISDIR))) {
            /* A write in progress (e.g. cp or an in-place save): the change
             * counts once the writer closes the file. */
            reg->entry->writing = 1;
            apr_thread_mutex_unlock(reg->w->mutex);
            continue;
        }
        if (ev->mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM))
            reg->entry->writing = 0;
        recheck(reg->w, reg->entry);
        if (ev->mask & IN_IGNORED)
            reg->entry->polled = 1;   /* its directory went away: fall back to stat */
        apr_thread_mutex_unlock(reg->w->mutex);
    }
    if (ev->mask & IN_IGNORED) {
        /* The directory itself is gone; re-watch what can be re-watched
         * and stat() the rest from now on. */
        apr_hash_set(by_wd, &dw->wd, sizeof(dw->wd), NULL);
        for (reg = dw->regs; reg != NULL; reg = reg->next) {
            apr_thread_mutex_lock(reg->w->mutex);
            if (reg->entry->polled)
                *(mp_entry **)apr_array_push(reg->w->polled) = reg->entry;
            apr_thread_mutex_unlock(reg->w->mutex);
        }
    }
}

/* Read and handle every queued event.  ino_mutex held.  `draining` counts
 * this thread from before its first read() until every event it took off
 * the queue has been applied to the tables (generations bumped). */
static void drain(void)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

    atomic_fetch_add(&draining, 1);
    for (;;) {
        ssize_t n = read(ino_fd, buf, sizeof(buf));
        char *p;

        if (n <= 0)
            break;   /* EAGAIN: nothing (more) queued */
        for (p = buf; p < buf + n; ) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            handle_event(ev);
            p += sizeof(struct inotify_event) + ev->len;
        }
    }
    atomic_fetch_sub(&draining, 1);
}

/* True when every event queued before this call has been applied, so the
 * caller may skip drain() and the mutex.  An event written before the
 * request started is either still queued (FIONREAD > 0: drain), or some
 * thread took it with read() before our ioctl - the kernel's queue lock
 * orders the two - and that thread raised `draining` before its read(),
 * so we see it still draining (wait for it under the mutex), or it has
 * finished and its generation bump is visible to us (seq_cst atomics). */
static int queue_quiet(void)
{
    int queued = 0;

    if (ioctl(ino_fd, FIONREAD, &queued) != 0 || queued != 0)
        return 0;
    return atomic_load(&draining) == 0;
}
#endif /* MP_HAVE_INOTIFY */

/* ------------------------------------------------------------ tables */

apr_status_t mp_reload_child_init(apr_pool_t *pchild, server_rec *s,
                                  mp_reload_mode want, apr_interval_time_t interval)
{
    apr_status_t rv;

    log_server = s;
    scan_interval = interval;
    if ((rv = apr_thread_mutex_create(&ino_mutex, APR_THREAD_MUTEX_DEFAULT, pchild))
        != APR_SUCCESS)
        return rv;
    apr_pool_create(&ino_pool, pchild);
    by_wd = apr_hash_make(ino_pool);
    mode = MP_RELOAD_STAT;
#ifdef MP_HAVE_INOTIFY
    if (want != MP_RELOAD_STAT) {
        ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (ino_fd >= 0)
            mode = MP_RELOAD_INOTIFY;
        else
            ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s, MP_APLOGNO(0301)
                         "inotify is unavailable (limit of instances per user?); "
                         "PythonAutoReload falls back to stat() checks");
    }
#else
    if (want == MP_RELOAD_INOTIFY)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MP_APLOGNO(0302)
                     "inotify is not available on this system; using stat() checks");
#endif
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, MP_APLOGNO(0303)
                 "PythonAutoReload change detection: %s", mp_reload_mechanism());
    return APR_SUCCESS;
}

mp_watch *mp_watch_create(apr_pool_t *p)
{
    mp_watch *w;
    apr_pool_t *pool;

    (void)p;
    /* A root pool of its own: p (the child pool) is not thread-safe. */
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS)
        return NULL;
    w = apr_pcalloc(pool, sizeof(*w));
    w->pool = pool;
    if (apr_thread_mutex_create(&w->mutex, APR_THREAD_MUTEX_DEFAULT, pool) != APR_SUCCESS)
        return NULL;
    w->entries = apr_hash_make(pool);
    w->all = apr_array_make(pool, 16, sizeof(mp_entry *));
    w->polled = apr_array_make(pool, 4, sizeof(mp_entry *));
    apr_thread_mutex_lock(ino_mutex);
    w->next = tables;
    tables = w;
    apr_thread_mutex_unlock(ino_mutex);
    return w;
}

int mp_watch_add(mp_watch *w, const char *path)
{
    mp_entry *e;
    int fresh = 0, stable;

    if (w == NULL || path == NULL || *path == '\0')
        return 1;
    apr_thread_mutex_lock(ino_mutex);
#ifdef MP_HAVE_INOTIFY
    if (mode == MP_RELOAD_INOTIFY)
        drain();      /* so that `writing` reflects every event queued so far */
#endif
    apr_thread_mutex_lock(w->mutex);
    e = apr_hash_get(w->entries, path, APR_HASH_KEY_STRING);
    if (e == NULL) {
        e = apr_pcalloc(w->pool, sizeof(*e));
        e->path = apr_pstrdup(w->pool, path);
        apr_hash_set(w->entries, e->path, APR_HASH_KEY_STRING, e);
        *(mp_entry **)apr_array_push(w->all) = e;
        fresh = 1;
    }
    stamp_of(e->path, &e->stamp);   /* before the caller reads the file */
    if (e->dirty) {
        /* Being re-read now: no longer a pending change. */
        mp_entry **pp;
        for (pp = &w->dirty; *pp != NULL; pp = &(*pp)->next_dirty)
            if (*pp == e) {
                *pp = e->next_dirty;
                break;
            }
        e->dirty = 0;
    }
    stable = !e->writing;
    apr_thread_mutex_unlock(w->mutex);
    /* Every (re)load re-registers: a symlink may point elsewhere now. */
    if (fresh || !e->polled) {
        int ok = 0;
#ifdef MP_HAVE_INOTIFY
        if (mode == MP_RELOAD_INOTIFY && e->path[0] == '/')
            ok = (watch_path(w, e) == 0);
#endif
        if (!ok && mode == MP_RELOAD_INOTIFY && !e->polled) {
            apr_thread_mutex_lock(w->mutex);
            e->polled = 1;
            *(mp_entry **)apr_array_push(w->polled) = e;
            apr_thread_mutex_unlock(w->mutex);
        }
    }
    apr_thread_mutex_unlock(ino_mutex);
    return stable;
}

int mp_watch_poll(mp_watch *w)
{
    int i;

    if (w == NULL)
        return 0;
    if (mode == MP_RELOAD_INOTIFY) {
#ifdef MP_HAVE_INOTIFY
        if (!queue_quiet()) {
            apr_thread_mutex_lock(ino_mutex);
            drain();
            apr_thread_mutex_unlock(ino_mutex);
        }
#endif
        if (w->polled->nelts > 0) {
            apr_thread_mutex_lock(w->mutex);
            for (i = 0; i < w->polled->nelts; i++)
                recheck(w, APR_ARRAY_IDX(w->polled, i, mp_entry *));
            apr_thread_mutex_unlock(w->mutex);
        }
    }
    else {
        apr_time_t now = scan_interval > 0 ? apr_time_now() : 0;
        apr_thread_mutex_lock(w->mutex);
        if (scan_interval <= 0 || now >= w->next_scan) {
            for (i = 0; i < w->all->nelts; i++)
                recheck(w, APR_ARRAY_IDX(w->all, i, mp_entry *));
            w->next_scan = now + scan_interval;
        }
        apr_thread_mutex_unlock(w->mutex);
    }
    return apr_atomic_read32(&w->gen) != apr_atomic_read32(&w->acked);
}

void mp_watch_take(mp_watch *w, mp_watch_cb cb, void *baton, apr_uint32_t *gen)
{
    mp_entry *e, *next;

    if (w == NULL) {
        *gen = 0;
        return;
    }
    apr_thread_mutex_lock(w->mutex);
    *gen = apr_atomic_read32(&w->gen);
    for (e = w->dirty; e != NULL; e = next) {
        next = e->next_dirty;
        e->dirty = 0;
        e->next_dirty = NULL;
        cb(baton, e->path, !e->stamp.exists);
    }
    w->dirty = NULL;
    apr_thread_mutex_unlock(w->mutex);
}

void mp_watch_ack(mp_watch *w, apr_uint32_t gen)
{
    if (w != NULL)
        apr_atomic_set32(&w->acked, gen);
}

int mp_watch_count(mp_watch *w)
{
    int n;

    if (w == NULL)
        return 0;
    apr_thread_mutex_lock(w->mutex);
    n = w->all->nelts;
    apr_thread_mutex_unlock(w->mutex);
    return n;
}
