/* mp_server.h - the mp_server object (python-api.md §7). */
#ifndef MP_SERVER_H
#define MP_SERVER_H

#include "mp_common.h"
#include "mp_util.h"

typedef struct {
    MP_OBJECT_HEAD
    server_rec *s;
    PyObject *dict;
    PyObject *next;        /* cached */
} mp_server;

extern PyTypeObject MpServer_Type;

int mp_server_type_init(void);
PyObject *mp_server_new(server_rec *s);
#define mp_server_check(o) PyObject_TypeCheck((o), &MpServer_Type)

#endif
