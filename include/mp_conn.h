/* mp_conn.h - the mp_conn object (mod_python 3.5 manual: "Connection Object
 * (mp_conn)"). */
#ifndef MP_CONN_H
#define MP_CONN_H

#include "mp_common.h"
#include "mp_util.h"

typedef struct {
    MP_OBJECT_HEAD
    conn_rec *c;
    PyObject *base_server;     /* cached mp_server */
    PyObject *notes;           /* cached mp_table */
    PyObject *hlist;           /* mp_hlist in connection handlers, else NULL */
    apr_bucket_brigade *bb_in; /* for read/readline (leftover input stays here) */
    apr_bucket_brigade *bb_out;/* for write */
    apr_pool_t *cleanup_pool;  /* c->pool while our "mark dead" cleanup is
                                * registered there (killed in dealloc) */
} mp_conn;

extern PyTypeObject MpConn_Type;

int mp_conn_type_init(void);
/* New wrapper; hlist may be NULL (outside connection handlers), else a new
 * reference to it is taken.  The object is marked dead when c->pool is
 * cleaned up.  NULL c -> None. */
PyObject *mp_conn_new(conn_rec *c, PyObject *hlist);
#define mp_conn_check(o) PyObject_TypeCheck((o), &MpConn_Type)

#endif
