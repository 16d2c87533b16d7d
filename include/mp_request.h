/* mp_request.h - the mp_request object (mod_python 3.5 manual: "Request Object"). */
#ifndef MP_REQUEST_H
#define MP_REQUEST_H

#include "mp_common.h"
#include "mp_util.h"
#include "mp_interp.h"
#include "mp_config.h"

typedef struct {
    MP_OBJECT_HEAD
    request_rec *r;
    mp_interp *ip;                  /* interpreter that owns this object */
    PyObject *dict;                 /* instance __dict__ */
    /* dispatch context, set by mp_request_set_phase(); the Python objects
     * are made from it when asked for (NULL until then) */
    int phase_idx;                  /* mp_phase_t, -1: none */
    mp_handler *list;               /* handler list of the phase (not copied) */
    const char *ext;                /* matched "| .ext" extension or NULL */
    PyObject *phase;                /* str, made on demand */
    PyObject *hlist;                /* mp_hlist over list, made on demand */
    PyObject *extension;            /* str, made on demand */
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
    /* additions (request*.c only) */
    apr_bucket_brigade *bb_in;      /* body read brigade (r->pool) */
    int body_eof;                   /* end of the request body seen */
    int io_busy;                    /* a body read is waiting without the GIL */
    int body_error;                 /* status of a failed body read (raised again) */
    const char *body_why;           /* its reason (static string) */
    const void *config_src;         /* merged layers `config` was made from */
    const void *options_src;        /* merged layers `options` was made from */
} mp_request;

extern PyTypeObject MpRequest_Type;

int mp_request_type_init(void);
/* Get or create r's request object for interpreter ip (GIL held in ip).
 * New reference; NULL with exception on failure. */
PyObject *mp_request_get(request_rec *r, mp_interp *ip);
/* Set the dispatch context: phase (mp_phase_t; -1: none, then req.phase
 * and req.hlist are None), its handler list (memory of the request or the
 * configuration; NULL: req.hlist is None) and the matched extension (NULL ->
 * None).  Costs nothing in Python until req.phase/hlist/extension is read. */
void mp_request_set_phase(PyObject *req, int phase, mp_handler *list, const char *ext);
/* req.hlist of the running phase (borrowed; made now if needed), NULL when
 * no phase runs (no exception) or on failure (exception set). */
PyObject *mp_request_hlist(PyObject *req);
#define mp_request_check(o) PyObject_TypeCheck((o), &MpRequest_Type)

/* ---- private to src/request*.c ---------------------------------------- */

/* Method tables of request_io.c and request_methods.c, each ended by a
 * {NULL, NULL, 0, NULL} sentinel; request.c joins them into the type. */
extern PyMethodDef mp_request_io_methods[];
extern PyMethodDef mp_request_other_methods[];

/* NULL with RuntimeError set when the request is gone, else the request_rec. */
static inline request_rec *mp_request_rec(mp_request *self)
{
    if (self->dead || self->r == NULL) {
        mp_err_dead("mp_request");
        return NULL;
    }
    return self->r;
}

/* Release the body-read buffer (readline) of self. */
void mp_request_io_free(mp_request *self);

/* request_wsgi.c: req.build_wsgi_env() and req.wsgi_start_response()
 * (PEP 3333; mod_python.wsgi), listed in mp_request_other_methods. */
PyObject *mp_request_build_wsgi_env(PyObject *self, PyObject *unused);
PyObject *mp_request_wsgi_start_response(PyObject *self, PyObject *args, PyObject *kw);

#endif
