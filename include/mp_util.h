/*
 * mp_util.h - small helpers shared by every layer: C <-> Python string
 * conversion (rules below), time conversion.  Depends on nothing of ours.
 */
#ifndef MP_UTIL_H
#define MP_UTIL_H

#include "mp_common.h"

/* Every wrapper whose C struct can die before the Python object does
 * (request, connection, filter; server for uniformity) starts with this.
 * `dead` is set when the underlying httpd memory is gone; methods then raise. */
#define MP_OBJECT_HEAD PyObject_HEAD int dead;
typedef struct { MP_OBJECT_HEAD } mp_object;

/* 1 if owner is a dead mp_object (or NULL -> 0). */
static inline int mp_owner_dead(PyObject *owner)
{
    return owner != NULL && ((mp_object *)owner)->dead;
}
/* Raises RuntimeError("... object is no longer valid") and returns NULL. */
PyObject *mp_err_dead(const char *what);

/* C string -> str: UTF-8, falling back to Latin-1 for invalid bytes (never
 * raises on bad input).  NULL -> None. New reference (NULL on memory error). */
PyObject *mp_str(const char *s);
PyObject *mp_strn(const char *s, Py_ssize_t n);
/* Like mp_str but Latin-1 (req.user, get_basic_auth_pw). */
PyObject *mp_str_latin1(const char *s);

/* Python -> C for attribute assignment and table keys/values: str encoded as
 * Latin-1 (TypeError "not an ISO-8859-1 string" above U+00FF), bytes taken
 * as is, anything else TypeError naming `what`.  Copy in pool p.
 * NULL with an exception set on error. */
const char *mp_latin1_from_py(apr_pool_t *p, PyObject *o, const char *what);
/* Python -> C for method arguments: str as UTF-8, bytes as is. */
const char *mp_utf8_from_py(apr_pool_t *p, PyObject *o, const char *what);

/* apr_time_t -> float seconds; 0 -> 0.0 */
PyObject *mp_float_time(apr_time_t t);

/* Raise _apache.SERVER_RETURN(status) in the current interpreter. Returns NULL. */
PyObject *mp_raise_server_return(int status);
/* Raise _apache.RequestBodyError(status) (a SERVER_RETURN and an OSError)
 * with `why` as its strerror.  Returns NULL. */
PyObject *mp_raise_body_error(int status, const char *why);

/* The status a handler, filter or connection handler returned: res (not
 * consumed) must be an int within C int range.  Anything else (not an int,
 * overflow) is logged at APLOG_ERR to r's log (else c's) naming the phase
 * and the handler (either may be NULL), leaves no exception pending and
 * gives 500. */
int mp_handler_status(PyObject *res, request_rec *r, conn_rec *c,
                      const char *phase, const char *handler);

/* "{" + ", ".join(parts) + "}" for a list of str; consumes the reference
 * to parts (dict-like reprs of table and finfo). */
PyObject *mp_braced_join(PyObject *parts);

/* An (ip, port) tuple for a socket address; None for NULL. */
PyObject *mp_sockaddr_tuple(apr_sockaddr_t *sa);

#endif
