/*
 * A test-only httpd module using mod_python's public C interface
 * (include/mod_python.h) the way another module would: handler
 * "mp-capi-test" acquires the interpreter named in the query string, reads
 * the shared request object (an attribute a Python fixup handler set on
 * it), and server/connection wrappers, then answers with what it saw.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "mod_python.h"

static const char *attr_str(PyObject *o, const char *name, char *buf, size_t n)
{
    PyObject *v = o ? PyObject_GetAttrString(o, name) : NULL;
    PyObject *s = v ? PyObject_Str(v) : NULL;
    const char *t = s ? PyUnicode_AsUTF8(s) : NULL;

    apr_cpystrn(buf, t ? t : "<error>", n);
    if (t == NULL)
        PyErr_Clear();
    Py_XDECREF(s);
    Py_XDECREF(v);
    return buf;
}

static int capi_handler(request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(mp_acquire_interpreter) *acquire;
    APR_OPTIONAL_FN_TYPE(mp_release_interpreter) *release;
    APR_OPTIONAL_FN_TYPE(mp_get_request_object) *get_req;
    APR_OPTIONAL_FN_TYPE(mp_get_server_object) *get_srv;
    APR_OPTIONAL_FN_TYPE(mp_get_connection_object) *get_conn;
    char a[256], b[256], c[256], d[256];

    if (r->handler == NULL || strcmp(r->handler, "mp-capi-test") != 0)
        return DECLINED;
    acquire = APR_RETRIEVE_OPTIONAL_FN(mp_acquire_interpreter);
    release = APR_RETRIEVE_OPTIONAL_FN(mp_release_interpreter);
    get_req = APR_RETRIEVE_OPTIONAL_FN(mp_get_request_object);
    get_srv = APR_RETRIEVE_OPTIONAL_FN(mp_get_server_object);
    get_conn = APR_RETRIEVE_OPTIONAL_FN(mp_get_connection_object);
    ap_set_content_type(r, "text/plain");
    if (!acquire || !release || !get_req || !get_srv || !get_conn) {
        ap_rputs("optional functions missing", r);
        return OK;
    }
    if (acquire(r->args) == NULL) {
        ap_rputs("acquire failed", r);
        return OK;
    }
    PyObject *req = get_req(r);
    PyObject *srv = get_srv(r->server);
    PyObject *conn = get_conn(r->connection);
    attr_str(req, "marker", a, sizeof(a));
    attr_str(req, "interpreter", b, sizeof(b));
    attr_str(srv, "server_hostname", c, sizeof(c));
    attr_str(conn, "client_ip", d, sizeof(d));
    Py_XDECREF(req);
    Py_XDECREF(srv);
    Py_XDECREF(conn);
    release();
    ap_rprintf(r, "marker=%s interp=%s host=%s ip=%s", a, b, c, d);
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_handler(capi_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(capi_client) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, register_hooks
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    , AP_MODULE_FLAG_NONE
#endif
};
