/* mp_table.h - the mp_table object: an ordered, case-insensitive,
 * multi-valued mapping over an apr_table_t (mod_python 3.5 manual: "Table Object
 * (mp_table)"). */
#ifndef MP_TABLE_H
#define MP_TABLE_H

#include "mp_common.h"
#include "mp_util.h"

typedef struct {
    PyObject_HEAD
    apr_table_t *table;
    apr_pool_t *pool;      /* own pool (apache.table()) or NULL for a view */
    PyObject *owner;       /* keeps the owner alive; view is invalid when owner is dead */
} mp_table;

extern PyTypeObject MpTable_Type;

int mp_table_type_init(void);                       /* PyType_Ready; 0 ok, -1 error */
/* Live view of t, owned by `owner` (may be NULL for process-lifetime tables). */
PyObject *mp_table_wrap(apr_table_t *t, PyObject *owner);
/* A new empty table with its own pool. */
PyObject *mp_table_new(void);
#define mp_table_check(o) PyObject_TypeCheck((o), &MpTable_Type)

#endif
