/*
 * mod_python.h - the public C interface of mod_python for other httpd
 * modules, as APR optional functions (registered by mod_python).
 *
 *   APR_OPTIONAL_FN_TYPE(mp_acquire_interpreter) *acquire =
 *       APR_RETRIEVE_OPTIONAL_FN(mp_acquire_interpreter);
 *   if (acquire) {
 *       acquire("main_interpreter");        // GIL held, interpreter current
 *       ... Python C API ...
 *       APR_RETRIEVE_OPTIONAL_FN(mp_release_interpreter)();
 *   }
 *
 * Include Python.h before this header.  Calls nest: each acquire must be
 * matched by one release on the same thread.
 */
#ifndef MOD_PYTHON_H
#define MOD_PYTHON_H

#include "httpd.h"
#include "apr_optional.h"

/* Get (creating it if needed) the named interpreter (NULL: main) and make
 * it current on this thread with the GIL held.  NULL on failure (logged);
 * then do not call mp_release_interpreter(). */
APR_DECLARE_OPTIONAL_FN(PyInterpreterState *, mp_acquire_interpreter, (const char *name));
/* Undo the matching mp_acquire_interpreter(). */
APR_DECLARE_OPTIONAL_FN(void, mp_release_interpreter, (void));
/* The request object (mp_request) of r in the current interpreter, created
 * if needed: the same object mod_python's handlers get.  New reference;
 * NULL with a Python exception set on failure. */
APR_DECLARE_OPTIONAL_FN(PyObject *, mp_get_request_object, (request_rec *r));
/* New mp_server / mp_conn wrappers.  New references. */
APR_DECLARE_OPTIONAL_FN(PyObject *, mp_get_server_object, (server_rec *s));
APR_DECLARE_OPTIONAL_FN(PyObject *, mp_get_connection_object, (conn_rec *c));

#endif
