/* mp_sessdir.h - the default directory of the disk session stores. */
#ifndef MP_SESSDIR_H
#define MP_SESSDIR_H

#include "mp_common.h"

/* Name of the directory under httpd's DefaultRuntimeDir. */
#define MP_SESSDIR_NAME "mod_python-sessions"

/* Parent, post_config: create <runtime dir>/mod_python-sessions mode 0700,
 * owned by the children's User (or check the one that is there).  Never
 * fails the start-up: a directory that cannot be used is logged, and the
 * session classes refuse it per request. */
void mp_sessdir_post_config(apr_pool_t *pconf, server_rec *s);
/* Its path (inherited by the children), NULL before post_config. */
const char *mp_sessdir_path(void);

#endif
