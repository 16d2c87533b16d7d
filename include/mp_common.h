/*
 * mp_common.h - the private prelude of every mod_python C file.
 *
 * Python.h comes first (CPython requires it), then httpd and APR.  Every
 * .c file includes this header before anything else, so that every log
 * line is tagged with our module (LogLevel python:debug works).
 */
#ifndef MP_COMMON_H
#define MP_COMMON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_connection.h"
#include "http_request.h"
#include "util_filter.h"
#include "ap_mpm.h"
#include "apr_strings.h"
#include "apr_hash.h"
#include "apr_tables.h"
#include "apr_atomic.h"
#include "apr_thread_mutex.h"

#include "mp_version.h"

/* mod_python.c gets this from AP_DECLARE_MODULE(python) itself. */
#if defined(APLOG_USE_MODULE) && !defined(MP_MODULE_RECORD)
APLOG_USE_MODULE(python);
#endif

extern module AP_MODULE_DECLARE_DATA python_module;

/* Our own message catalogue: "MP0001: ..." (httpd's AH numbers are httpd's). */
#define MP_APLOGNO(n) "MP" #n ": "

#define MP_MAIN_INTERPRETER "main_interpreter"

#endif /* MP_COMMON_H */
