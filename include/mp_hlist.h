/* mp_hlist.h - the mp_hlist object: iterator over a handler list (req.hlist). */
#ifndef MP_HLIST_H
#define MP_HLIST_H

#include "mp_common.h"
#include "mp_config.h"

typedef struct {
    PyObject_HEAD
    mp_handler *head;      /* list in `pool` */
    mp_handler *cur;       /* current entry; NULL at the end */
    apr_pool_t *pool;      /* NULL once the pool is gone */
    int copied;            /* the list was copied into `pool` (first append) */
} mp_hlist;

extern PyTypeObject MpHList_Type;

int mp_hlist_type_init(void);
/* New iterator positioned at head (list memory lives in p). */
PyObject *mp_hlist_new(apr_pool_t *p, mp_handler *head);
/* Current entry or NULL. */
mp_handler *mp_hlist_current(PyObject *hl);
/* Append a copy of h (allocated in the hlist's pool) to the end of the list.
 * The first append copies the list into the pool, so a list shared with
 * the configuration is never modified. */
void mp_hlist_append(PyObject *hl, const mp_handler *h);

#endif
