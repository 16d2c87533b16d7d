/* mp_request.h - the mp_request object (python-api.md §4). */
#ifndef MP_REQUEST_H
#define MP_REQUEST_H

#include "mp_common.h"
#include "mp_util.h"
#include "mp_interp.h"

typedef struct {
    MP_OBJECT_HEAD
    request_rec *r;
    mp_interp *ip;                  /* interpreter that owns this object */
    PyObject *dict;                 /* instance __dict__ */
    PyObject *phase;                /* str or NULL (None) */
    PyObject *hlist;                /* mp_hlist or NULL */
    PyObject *extension;            /* str or NULL */
    PyObject *connection;           /* cached */
    PyObject *server;
    PyObject *headers_in, *headers_out, *err_headers_out, *subprocess_env, *notes;
    PyObject *config, *options;     /* cached get_config()/get_options() tables */
    PyObject *finfo;                /* cached finfo view */
    /* request body */
    int read_setup;                 /* ap_setup_client_block done */
    char *rbuf;                     /* readline buffer (malloc'd) */
    apr_size_t rbuf_size, rbuf_pos, rbuf_len;
    apr_off_t bytes_queued;
    int content_type_set;
} mp_request;

extern PyTypeObject MpRequest_Type;

int mp_request_type_init(void);
/* Get or create r's request object for interpreter ip (GIL held in ip).
 * New reference; NULL with exception on failure. */
PyObject *mp_request_get(request_rec *r, mp_interp *ip);
/* Set the dispatch context: phase name (NULL -> None), hlist (borrowed,
 * may be NULL), matched extension (NULL -> None). */
void mp_request_set_phase(PyObject *req, const char *phase, PyObject *hlist,
                          const char *extension);
#define mp_request_check(o) PyObject_TypeCheck((o), &MpRequest_Type)

#endif
