/* mp_finfo.h - the mp_finfo object (req.finfo, apache.stat()). */
#ifndef MP_FINFO_H
#define MP_FINFO_H

#include "mp_common.h"
#include "mp_util.h"

typedef struct {
    PyObject_HEAD
    apr_finfo_t *finfo;    /* points into owner's memory, or at `own` */
    apr_finfo_t own;
    apr_pool_t *pool;      /* own pool for fname/name copies (owned objects) */
    PyObject *owner;       /* request object for req.finfo, NULL if owned */
} mp_finfo;

extern PyTypeObject MpFinfo_Type;

int mp_finfo_type_init(void);
/* Live view of f (memory owned by owner). */
PyObject *mp_finfo_wrap(apr_finfo_t *f, PyObject *owner);
/* apache.stat(fname, wanted) */
PyObject *mp_finfo_stat(const char *fname, apr_int32_t wanted);
/* The apr_finfo_t of an mp_finfo (NULL if o is not one or is no longer
 * valid; no exception left set).  Its fname/name strings live in the
 * object's pool: copy them (apr_pstrdup) when copying the struct. */
apr_finfo_t *mp_finfo_ptr(PyObject *o);
#define mp_finfo_check(o) PyObject_TypeCheck((o), &MpFinfo_Type)

#endif
