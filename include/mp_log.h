/*
 * mp_log.h - logging Python errors and Python-originated messages, and the
 * one way C code takes, puts back and describes a pending Python exception.
 * Every line carries our module tag (LogLevel python:debug filters it).
 */
#ifndef MP_LOG_H
#define MP_LOG_H

#include "mp_common.h"

/* Log the pending Python exception (full traceback, one log line per
 * traceback line, prefixed with `context`) at APLOG_ERR to r's log (or c's,
 * or s's, whichever is non-NULL first) and clear it.  GIL held; released
 * while the lines are written (see mp_log_set_gil_hooks). */
void mp_log_py_error(request_rec *r, conn_rec *c, server_rec *s, const char *context);

/* Log msg at level (APLOG_EMERG..APLOG_DEBUG; all levels work, including
 * EMERG) to r / c / s (first non-NULL; all NULL -> main server).  A message
 * of several lines is written as one log line per line (empty ones left
 * out); a leading "MPnnnn: " tag is repeated on every line.  With
 * `gil_held`, the GIL is released around the write. */
void mp_log_message(request_rec *r, conn_rec *c, server_rec *s, int level,
                    const char *msg, int gil_held);

/* How this layer releases the GIL: interp.c hands over its
 * mp_interp_release/mp_interp_reacquire (the MP_BEGIN_BLOCKING pair) once
 * Python is up; until then nothing is released. */
typedef PyThreadState *(*mp_log_release_fn)(void);
typedef void (*mp_log_reacquire_fn)(PyThreadState *);
void mp_log_set_gil_hooks(mp_log_release_fn release, mp_log_reacquire_fn reacquire);

/* The pending exception as one normalised object (its __traceback__ set),
 * cleared; NULL when none is pending.  GIL held. */
PyObject *mp_exc_fetch(void);
/* Make exc (a reference from mp_exc_fetch, stolen) pending again; NULL is
 * a no-op. */
void mp_exc_restore(PyObject *exc);
/* "Type: message" of exc into buf (never fails; clears any error of its
 * own); returns buf. */
const char *mp_exc_summary(PyObject *exc, char *buf, size_t size);

#endif
