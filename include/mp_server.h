/* mp_server.h - the mp_server object (mod_python 3.5 manual: "Server Object
 * (mp_server)"). */
#ifndef MP_SERVER_H
#define MP_SERVER_H

#include "mp_common.h"
#include "mp_util.h"
#include "mp_interp.h"

typedef struct {
    MP_OBJECT_HEAD
    server_rec *s;
    PyObject *dict;
    PyObject *next;        /* cached */
} mp_server;

extern PyTypeObject MpServer_Type;

int mp_server_type_init(void);
PyObject *mp_server_new(server_rec *s);
/* Run callable(data) (data NULL -> None) at child exit inside interpreter
 * ip (errors logged to s), through mp_interp_at_child_exit().  GIL held;
 * 0 ok, -1 with an exception.  Used by server.register_cleanup(). */
int mp_server_register_cleanup(mp_interp *ip, server_rec *s, PyObject *callable,
                               PyObject *data);
/* log_error() message argument: str -> UTF-8, bytes as is; None -> NULL
 * with *none = 1; other types -> NULL with TypeError.  The text borrows
 * from msg. */
const char *mp_server_log_text(PyObject *msg, int *none);
#define mp_server_check(o) PyObject_TypeCheck((o), &MpServer_Type)

#endif
