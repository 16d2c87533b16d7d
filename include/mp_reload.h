/*
 * mp_reload.h - the change-detection table behind PythonAutoReload.  No
 * Python in here: it runs without the GIL.
 *
 * One mp_watch per interpreter per child holds the files its modules were
 * loaded from, each with the stat tuple seen when it was loaded.  A change
 * (detected by inotify events on the containing directories, or by stat in
 * the fallback mode) marks the path dirty and bumps the table's generation.
 * mp_watch_poll() is the per-request check: O(1) in the number of files.
 */
#ifndef MP_RELOAD_H
#define MP_RELOAD_H

#include "mp_common.h"

typedef struct mp_watch mp_watch;

typedef enum {
    MP_RELOAD_AUTO = 0,     /* inotify if available, else stat */
    MP_RELOAD_INOTIFY,
    MP_RELOAD_STAT
} mp_reload_mode;

/* Per child: set up the notification instance (called at child init). */
apr_status_t mp_reload_child_init(apr_pool_t *pchild, server_rec *s,
                                  mp_reload_mode mode, apr_interval_time_t interval);
/* "inotify" or "stat": the mechanism in use in this child. */
const char *mp_reload_mechanism(void);

mp_watch *mp_watch_create(apr_pool_t *p);

/* Start watching path (stat it now: call before reading the file).
 * Re-adding a watched path refreshes its stat tuple and clears dirt.
 * Returns 0 when a writer still has the file open after modifying it (the
 * caller should not trust what it reads now; a close event will follow). */
int mp_watch_add(mp_watch *w, const char *path);

/* Per-request check: collect pending change notifications and report
 * whether anything changed that has not been acknowledged. No GIL needed. */
int mp_watch_poll(mp_watch *w);

/* Hand over the dirty paths (cb called once per path, under the table lock;
 * `gone` = the file no longer exists), clearing their dirt.  *gen receives
 * the generation to pass to mp_watch_ack() once the changes are applied. */
typedef void (*mp_watch_cb)(void *baton, const char *path, int gone);
void mp_watch_take(mp_watch *w, mp_watch_cb cb, void *baton, apr_uint32_t *gen);
void mp_watch_ack(mp_watch *w, apr_uint32_t gen);

/* Number of watched paths (for tests and logging). */
int mp_watch_count(mp_watch *w);

#endif
