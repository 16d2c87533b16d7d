/*
 * mp_log.h - logging Python errors and Python-originated messages.
 * Every line carries our module tag (LogLevel python:debug filters it).
 */
#ifndef MP_LOG_H
#define MP_LOG_H

#include "mp_common.h"

/* Log the pending Python exception (full traceback, one log line per
 * traceback line, prefixed with `context`) at APLOG_ERR to r's log (or c's,
 * or s's, whichever is non-NULL first) and clear it.  GIL held. */
void mp_log_py_error(request_rec *r, conn_rec *c, server_rec *s, const char *context);

/* Log msg at level (APLOG_EMERG..APLOG_DEBUG; all levels work, including
 * EMERG) to r / c / s (first non-NULL; all NULL -> main server).  Releases
 * the GIL around the write when `gil_held`. */
void mp_log_message(request_rec *r, conn_rec *c, server_rec *s, int level,
                    const char *msg, int gil_held);

#endif
