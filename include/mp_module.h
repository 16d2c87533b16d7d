/* mp_module.h - the built-in _apache module (multi-phase init). */
#ifndef MP_MODULE_H
#define MP_MODULE_H

#include "mp_common.h"

/* PyInit__apache, appended to the inittab before Python starts. */
PyObject *mp_apache_module_init(void);

/* Process-wide values the module reports (set by the top at child init). */
void mp_module_set_context(apr_pool_t *pchild, server_rec *main_server);

#endif
