/*
 * mp_reqstate.h - mod_python's per-request state (request_config):
 * Python request objects (one per interpreter), handlers added with
 * req.add_handler(), filters registered per request, reload-poll flag.
 */
#ifndef MP_REQSTATE_H
#define MP_REQSTATE_H

#include "mp_common.h"
#include "mp_config.h"
#include "mp_interp.h"

typedef void (*mp_detach_fn)(PyObject *obj);

typedef struct mp_reqobj mp_reqobj;
struct mp_reqobj {
    mp_interp *ip;
    PyObject *obj;                    /* owned reference */
    mp_detach_fn detach;              /* marks obj dead before it is released */
    mp_reqobj *next;
};

typedef struct {
    request_rec *r;
    mp_reqobj *objs;
    mp_handler *dyn[MP_PHASE_COUNT];  /* req.add_handler() for phases not yet running */
    apr_hash_t *in_filters;           /* req.register_input_filter(): name -> mp_handler* */
    apr_hash_t *out_filters;
    int polled;                       /* the reload poll ran for this request */
    const mp_handler *init_ran;       /* server-level InitHandler list already run */
    int cleanup_registered;
    int ending;                       /* request pool cleanup is running */
    int python_at_end;                /* req.register_cleanup(): Python runs then */
} mp_reqstate;

/* The state of r, NULL if none (nothing of ours ran for r yet). */
static inline mp_reqstate *mp_reqstate_peek(request_rec *r)
{
    return ap_get_module_config(r->request_config, &python_module);
}

/* The state of r (NULL if none and !create). */
mp_reqstate *mp_reqstate_get(request_rec *r, int create);

/* Python object of r in ip (borrowed), NULL if none. */
PyObject *mp_reqstate_object(request_rec *r, mp_interp *ip);

/* Store obj (a new reference is taken) as r's object in ip.  The first
 * attach registers the request-pool cleanup that runs the end hook and then
 * detaches and releases every object inside its own interpreter.  GIL held. */
void mp_reqstate_attach(request_rec *r, mp_interp *ip, PyObject *obj, mp_detach_fn detach);

/* Detach and release r's Python objects now, each in its interpreter (GIL
 * held in any): for a request that will run no more Python, so that its
 * pool cleanup need not take the GIL again.  An object asked for later is
 * made anew. */
void mp_reqstate_release(request_rec *r);

/* Called (without the GIL) at request-pool cleanup, before objects are
 * released: dispatch.c runs PythonCleanupHandler here. */
typedef void (*mp_request_end_fn)(request_rec *r, mp_reqstate *rs);
void mp_reqstate_set_end_hook(mp_request_end_fn fn);

/* The dispatch running on this thread (handler phase, filter, SSI
 * element, connection handler): its flags (MP_DISPATCH_* of mp_dispatch.h)
 * for apache.import_module()'s defaults, and its request.  Pushed and popped by dispatch.c
 * around every call into Python (nesting: a filter inside req.write()). */
typedef struct mp_current mp_current;
struct mp_current {
    int flags;
    request_rec *r;                   /* NULL for a connection handler */
    mp_current *prev;
};
void mp_current_push(mp_current *cur, request_rec *r, int flags);
void mp_current_pop(mp_current *cur);
/* Flags of the innermost dispatch of this thread; -1 when none runs. */
int mp_current_flags(void);
/* Its request (the importer logs to that request's virtual host), or NULL. */
request_rec *mp_current_request(void);

/* The outermost request of r's chain (main / prev), for once-per-request flags. */
request_rec *mp_request_root(request_rec *r);

#endif
