/* mp_filterobj.h - the mp_filter object, one per filter invocation
 * (mod_python 3.5 manual: "Filter Object (mp_filter)"). */
#ifndef MP_FILTEROBJ_H
#define MP_FILTEROBJ_H

#include "mp_common.h"
#include "mp_util.h"
#include "mp_config.h"

typedef struct {
    MP_OBJECT_HEAD
    ap_filter_t *f;
    apr_bucket_brigade *bb_in;     /* output: brigade handed to us; input: filled from next filter */
    apr_bucket_brigade *bb_out;    /* output: brigade passed on; input: brigade returned to caller */
    int is_input;
    ap_input_mode_t mode;
    apr_read_type_e block;
    apr_off_t readbytes;
    apr_status_t rc;               /* last APR status, returned to httpd */
    int closed;
    int softspace;
    int disabled;                  /* filter.disable() was called */
    const char *handler;
    const char *dir;
    PyObject *req;                 /* mp_request or None */
    /* --- added by filterobj.c/filter.c (private to them) --- */
    int eos_seen;                  /* read() consumed an EOS bucket */
    int eos_passed;                /* output: an EOS went to the next filter */
    apr_off_t out_pending;         /* output: bytes written but not yet passed on */
} mp_filter;

extern PyTypeObject MpFilter_Type;

int mp_filter_type_init(void);
/* New filter object for one invocation (req may be NULL -> None). */
PyObject *mp_filter_new(ap_filter_t *f, apr_bucket_brigade *bb, int is_input,
                        ap_input_mode_t mode, apr_read_type_e block,
                        apr_off_t readbytes, const char *handler,
                        const char *dir, PyObject *req);
/* Mark the object dead once its invocation is over (GIL held): later
 * method calls and attribute reads raise instead of touching brigades that
 * belong to httpd; drops the request reference. */
void mp_filter_invalidate(PyObject *o);

/* 1 if bb holds an EOS bucket. */
int mp_brigade_has_eos(apr_bucket_brigade *bb);

/* The generic filter req.add_input_filter()/add_output_filter() add, and
 * the context they give it (read and updated by filter.c). */
#define MP_FILTER_NAME "MOD_PYTHON"
typedef struct {
    const char *name;      /* per-request registered name, NULL for static */
    int transparent;       /* pass data through without Python */
} mp_filter_ctx;

#define mp_filter_check(o) PyObject_TypeCheck((o), &MpFilter_Type)

#endif
