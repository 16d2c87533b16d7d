/*
 * capi.c - the C interface for other httpd modules (include/mod_python.h):
 * APR optional functions over the interpreter registry and the objects.
 */
#include "mp_common.h"
#include "mod_python.h"
#include "mp_capi.h"
#include "mp_dispatch.h"
#include "mp_interp.h"
#include "mp_request.h"
#include "mp_server.h"
#include "mp_conn.h"

#define MP_CAPI_DEPTH 16

/* acquire/release pairs nest per thread */
static _Thread_local mp_gil_token tokens[MP_CAPI_DEPTH];
static _Thread_local int depth;

static PyInterpreterState *mp_acquire_interpreter(const char *name)
{
    mp_interp *ip;

    if (depth >= MP_CAPI_DEPTH) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, ap_server_conf, MP_APLOGNO(0210)
                     "mp_acquire_interpreter: nested more than %d deep", MP_CAPI_DEPTH);
        return NULL;
    }
    ip = mp_dispatch_interp(name, ap_server_conf);
    if (ip == NULL)
        return NULL;
    mp_interp_enter(ip, &tokens[depth++]);
    return ip->istate;
}

static void mp_release_interpreter(void)
{
    if (depth > 0)
        mp_interp_leave(&tokens[--depth]);
}

static PyObject *mp_get_request_object(request_rec *r)
{
    mp_interp *ip = mp_interp_current();

    if (ip == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "mp_get_request_object: no mod_python interpreter is current");
        return NULL;
    }
    return mp_request_get(r, ip);
}

static PyObject *mp_get_server_object(server_rec *s)
{
    return mp_server_new(s);
}

static PyObject *mp_get_connection_object(conn_rec *c)
{
    return mp_conn_new(c, NULL);
}

void mp_capi_register(void)
{
    APR_REGISTER_OPTIONAL_FN(mp_acquire_interpreter);
    APR_REGISTER_OPTIONAL_FN(mp_release_interpreter);
    APR_REGISTER_OPTIONAL_FN(mp_get_request_object);
    APR_REGISTER_OPTIONAL_FN(mp_get_server_object);
    APR_REGISTER_OPTIONAL_FN(mp_get_connection_object);
}
