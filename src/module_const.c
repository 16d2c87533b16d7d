/*
 * module_const.c - the constants of the built-in _apache module
 * (the constants of mod_python 3.5's apache module): httpd and APR values taken
 * from the headers of the httpd we are built against, so mod_python.apache never
 * hard-codes them.
 */
#include "mp_common.h"
#include "mp_module.h"
#include "ap_mmn.h"
#include "apr_file_info.h"

typedef struct {
    const char *name;
    long value;
} mp_int_const;

typedef struct {
    const char *name;
    const char *value;
} mp_str_const;

#define I(x) {#x, (long)(x)}

#ifndef HTTP_IM_A_TEAPOT
#define HTTP_IM_A_TEAPOT 418
#endif

static const mp_int_const mp_int_consts[] = {
    /* handler results */
    I(OK), I(DECLINED), I(DONE),
    /* connection keep-alive state */
    I(AP_CONN_UNKNOWN), I(AP_CONN_CLOSE), I(AP_CONN_KEEPALIVE),
    /* file types */
    I(APR_NOFILE), I(APR_REG), I(APR_DIR), I(APR_CHR), I(APR_BLK),
    I(APR_PIPE), I(APR_LNK), I(APR_SOCK), I(APR_UNKFILE),
    /* apr_stat wanted flags */
    I(APR_FINFO_LINK), I(APR_FINFO_MTIME), I(APR_FINFO_CTIME), I(APR_FINFO_ATIME),
    I(APR_FINFO_SIZE), I(APR_FINFO_CSIZE), I(APR_FINFO_DEV), I(APR_FINFO_INODE),
    I(APR_FINFO_NLINK), I(APR_FINFO_TYPE), I(APR_FINFO_USER), I(APR_FINFO_GROUP),
    I(APR_FINFO_UPROT), I(APR_FINFO_GPROT), I(APR_FINFO_WPROT), I(APR_FINFO_ICASE),
    I(APR_FINFO_NAME), I(APR_FINFO_MIN), I(APR_FINFO_IDENT), I(APR_FINFO_OWNER),
    I(APR_FINFO_PROT), I(APR_FINFO_NORM), I(APR_FINFO_DIRENT),
    /* build */
    I(MODULE_MAGIC_NUMBER_MAJOR), I(MODULE_MAGIC_NUMBER_MINOR),
    /* ap_mpm_query results and codes */
    I(AP_MPMQ_NOT_SUPPORTED), I(AP_MPMQ_STATIC), I(AP_MPMQ_DYNAMIC),
    I(AP_MPMQ_MAX_DAEMON_USED), I(AP_MPMQ_IS_THREADED), I(AP_MPMQ_IS_FORKED),
    I(AP_MPMQ_HARD_LIMIT_DAEMONS), I(AP_MPMQ_HARD_LIMIT_THREADS),
    I(AP_MPMQ_MAX_THREADS), I(AP_MPMQ_MIN_SPARE_DAEMONS),
    I(AP_MPMQ_MIN_SPARE_THREADS), I(AP_MPMQ_MAX_SPARE_DAEMONS),
    I(AP_MPMQ_MAX_SPARE_THREADS), I(AP_MPMQ_MAX_REQUESTS_DAEMON),
    I(AP_MPMQ_MAX_DAEMONS), I(AP_MPMQ_MPM_STATE), I(AP_MPMQ_IS_ASYNC),
    I(AP_MPMQ_GENERATION),
    I(AP_MPMQ_STARTING), I(AP_MPMQ_RUNNING), I(AP_MPMQ_STOPPING),
    /* method numbers */
    I(M_GET), I(M_PUT), I(M_POST), I(M_DELETE), I(M_CONNECT), I(M_OPTIONS),
    I(M_TRACE), I(M_PATCH), I(M_PROPFIND), I(M_PROPPATCH), I(M_MKCOL),
    I(M_COPY), I(M_MOVE), I(M_LOCK), I(M_UNLOCK), I(M_VERSION_CONTROL),
    I(M_CHECKOUT), I(M_UNCHECKOUT), I(M_CHECKIN), I(M_UPDATE), I(M_LABEL),
    I(M_REPORT), I(M_MKWORKSPACE), I(M_MKACTIVITY), I(M_BASELINE_CONTROL),
    I(M_MERGE), I(M_INVALID), I(METHODS),
    /* used_path_info */
    I(AP_REQ_ACCEPT_PATH_INFO), I(AP_REQ_REJECT_PATH_INFO), I(AP_REQ_DEFAULT_PATH_INFO),
    /* read_body policies */
    I(REQUEST_NO_BODY), I(REQUEST_CHUNKED_ERROR), I(REQUEST_CHUNKED_DECHUNK),
    /* proxyreq */
    I(PROXYREQ_NONE), I(PROXYREQ_PROXY), I(PROXYREQ_REVERSE), I(PROXYREQ_RESPONSE),
    /* get_remote_host types */
    I(REMOTE_HOST), I(REMOTE_NAME), I(REMOTE_NOLOOKUP), I(REMOTE_DOUBLE_REV),
    /* log levels */
    I(APLOG_EMERG), I(APLOG_ALERT), I(APLOG_CRIT), I(APLOG_ERR), I(APLOG_WARNING),
    I(APLOG_NOTICE), I(APLOG_INFO), I(APLOG_DEBUG),
    /* HTTP status codes */
    I(HTTP_CONTINUE), I(HTTP_SWITCHING_PROTOCOLS), I(HTTP_PROCESSING), I(HTTP_OK),
    I(HTTP_CREATED), I(HTTP_ACCEPTED), I(HTTP_NON_AUTHORITATIVE), I(HTTP_NO_CONTENT),
    I(HTTP_RESET_CONTENT), I(HTTP_PARTIAL_CONTENT), I(HTTP_MULTI_STATUS),
    I(HTTP_MULTIPLE_CHOICES), I(HTTP_MOVED_PERMANENTLY), I(HTTP_MOVED_TEMPORARILY),
    I(HTTP_SEE_OTHER), I(HTTP_NOT_MODIFIED), I(HTTP_USE_PROXY),
    I(HTTP_TEMPORARY_REDIRECT), I(HTTP_BAD_REQUEST), I(HTTP_UNAUTHORIZED),
    I(HTTP_PAYMENT_REQUIRED), I(HTTP_FORBIDDEN), I(HTTP_NOT_FOUND),
    I(HTTP_METHOD_NOT_ALLOWED), I(HTTP_NOT_ACCEPTABLE),
    I(HTTP_PROXY_AUTHENTICATION_REQUIRED), I(HTTP_REQUEST_TIME_OUT), I(HTTP_CONFLICT),
    I(HTTP_GONE), I(HTTP_LENGTH_REQUIRED), I(HTTP_PRECONDITION_FAILED),
    I(HTTP_REQUEST_ENTITY_TOO_LARGE), I(HTTP_REQUEST_URI_TOO_LARGE),
    I(HTTP_UNSUPPORTED_MEDIA_TYPE), I(HTTP_RANGE_NOT_SATISFIABLE),
    I(HTTP_EXPECTATION_FAILED), I(HTTP_IM_A_TEAPOT), I(HTTP_UNPROCESSABLE_ENTITY),
    I(HTTP_LOCKED), I(HTTP_FAILED_DEPENDENCY), I(HTTP_UPGRADE_REQUIRED),
    I(HTTP_INTERNAL_SERVER_ERROR), I(HTTP_NOT_IMPLEMENTED), I(HTTP_BAD_GATEWAY),
    I(HTTP_SERVICE_UNAVAILABLE), I(HTTP_GATEWAY_TIME_OUT),
    I(HTTP_VERSION_NOT_SUPPORTED), I(HTTP_VARIANT_ALSO_VARIES),
    I(HTTP_INSUFFICIENT_STORAGE), I(HTTP_NOT_EXTENDED),
    {NULL, 0}
};

#undef I

static const mp_str_const mp_str_consts[] = {
    {"MODULE_VERSION", MP_VERSION_STRING},
    {"AP_SERVER_BASEVERSION", AP_SERVER_BASEVERSION},
    {"CGI_MAGIC_TYPE", CGI_MAGIC_TYPE},
    {"INCLUDES_MAGIC_TYPE", INCLUDES_MAGIC_TYPE},
    {"INCLUDES_MAGIC_TYPE3", INCLUDES_MAGIC_TYPE3},
    {"DIR_MAGIC_TYPE", DIR_MAGIC_TYPE},
    {NULL, NULL}
};

int mp_module_add_constants(PyObject *m)
{
    const mp_int_const *ic;
    const mp_str_const *sc;

    for (ic = mp_int_consts; ic->name != NULL; ic++) {
        if (PyModule_AddIntConstant(m, ic->name, ic->value) < 0)
            return -1;
    }
    for (sc = mp_str_consts; sc->name != NULL; sc++) {
        if (PyModule_AddStringConstant(m, sc->name, sc->value) < 0)
            return -1;
    }
    return 0;
}
