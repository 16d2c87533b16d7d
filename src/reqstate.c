/*
 * reqstate.c - mod_python's per-request state, kept in r->request_config.
 *
 * Python request objects belong to the interpreter that made them; at the
 * end of the request each one is detached (marked dead, so a reference kept
 * by user code raises instead of touching freed memory) and released inside
 * its own interpreter (3.5 released them all in the main interpreter).
 */
#include "mp_common.h"
#include "mp_reqstate.h"

static mp_request_end_fn end_hook;
static _Thread_local mp_current *current;

void mp_reqstate_set_end_hook(mp_request_end_fn fn)
{
    end_hook = fn;
}

mp_reqstate *mp_reqstate_get(request_rec *r, int create)
{
    mp_reqstate *rs = ap_get_module_config(r->request_config, &python_module);

    if (rs == NULL && create) {
        rs = apr_pcalloc(r->pool, sizeof(*rs));
        rs->r = r;
        ap_set_module_config(r->request_config, &python_module, rs);
    }
    return rs;
}

PyObject *mp_reqstate_object(request_rec *r, mp_interp *ip)
{
    mp_reqstate *rs = mp_reqstate_get(r, 0);
    mp_reqobj *o;

    if (rs == NULL)
        return NULL;
    for (o = rs->objs; o != NULL; o = o->next)
        if (o->ip == ip)
            return o->obj;
    return NULL;
}

/* Detach and release the objects of rs, each inside its interpreter. */
static void release_objects(mp_reqstate *rs)
{
    mp_reqobj *o;

    for (o = rs->objs; o != NULL; o = o->next) {
        mp_gil_token tok;
        mp_interp_enter(o->ip, &tok);
        if (o->detach != NULL)
            o->detach(o->obj);
        Py_CLEAR(o->obj);
        mp_interp_leave(&tok);
    }
    rs->objs = NULL;
}

void mp_reqstate_release(request_rec *r)
{
    mp_reqstate *rs = mp_reqstate_peek(r);

    if (rs != NULL)
        release_objects(rs);
}

/* Request pool cleanup (no GIL held). */
static apr_status_t request_end(void *data)
{
    mp_reqstate *rs = data;

    rs->ending = 1;
    if (end_hook != NULL)
        end_hook(rs->r, rs);
    release_objects(rs);
    return APR_SUCCESS;
}

void mp_reqstate_attach(request_rec *r, mp_interp *ip, PyObject *obj, mp_detach_fn detach)
{
    mp_reqstate *rs = mp_reqstate_get(r, 1);
    mp_reqobj *o = apr_pcalloc(r->pool, sizeof(*o));

    Py_INCREF(obj);
    o->ip = ip;
    o->obj = obj;
    o->detach = detach;
    o->next = rs->objs;
    rs->objs = o;
    if (!rs->cleanup_registered) {
        rs->cleanup_registered = 1;
        apr_pool_cleanup_register(r->pool, rs, request_end, apr_pool_cleanup_null);
    }
}

void mp_current_push(mp_current *cur, request_rec *r, int flags)
{
    cur->flags = flags;
    cur->r = r;
    cur->prev = current;
    current = cur;
}

void mp_current_pop(mp_current *cur)
{
    current = cur->prev;
}

int mp_current_flags(void)
{
    return current != NULL ? current->flags : -1;
}

request_rec *mp_current_request(void)
{
    return current != NULL ? current->r : NULL;
}

request_rec *mp_request_root(request_rec *r)
{
    for (;;) {
        if (r->main != NULL)
            r = r->main;
        else if (r->prev != NULL)
            r = r->prev;
        else
            return r;
    }
}
