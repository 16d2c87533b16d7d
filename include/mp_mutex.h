/* mp_mutex.h - the global (cross-process) mutexes used by Session and PSP. */
#ifndef MP_MUTEX_H
#define MP_MUTEX_H

#include "mp_common.h"

/* Parent, post_config: create the mutexes. */
int mp_mutex_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
/* Child: re-attach. */
void mp_mutex_child_init(apr_pool_t *pchild, server_rec *s);
int mp_mutex_count(void);
/* Lock/unlock index i (0 <= i < count); blocking calls, no GIL. */
apr_status_t mp_mutex_lock(int i);
apr_status_t mp_mutex_trylock(int i);
apr_status_t mp_mutex_unlock(int i);

#endif
