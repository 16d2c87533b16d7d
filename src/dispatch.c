/*
 * dispatch.c - httpd hook entry points: request phases, connections,
 * post_config and child_init, and the bridge to mod_python.apache.CallBack.
 *
 * Per request phase: typed config -> handler list (plain or "| .ext") plus
 * req.add_handler() extras -> none? DECLINED without touching Python ->
 * interpreter name -> reload poll (no GIL) -> enter interpreter -> sync
 * changed modules if the poll said so -> CallBack.HandlerDispatch(req) ->
 * leave -> map the status.
 */
#include "mp_common.h"
#include "mp_dispatch.h"
#include "mp_config.h"
#include "mp_interp.h"
#include "mp_reqstate.h"
#include "mp_reload.h"
#include "mp_log.h"
#include "mp_module.h"
#include "mp_psp.h"
#include "mp_mutex.h"
#include "mp_sessdir.h"
#include "mp_request.h"
#include "mp_server.h"
#include "mp_conn.h"
#include "mp_hlist.h"

#include "mod_auth.h"

/* ------------------------------------------------- interpreter set-up */

static void check_package_version(server_rec *s)
{
    static int warned;
    PyObject *mod = PyImport_ImportModule("mod_python.version");
    PyObject *v = mod ? PyObject_GetAttrString(mod, "version") : NULL;
    const char *txt = v ? PyUnicode_AsUTF8(v) : NULL;

    if (txt == NULL)
        PyErr_Clear();
    if (!warned && (txt == NULL || strcmp(txt, MP_VERSION_STRING) != 0)) {
        PyObject *file = mod ? PyObject_GetAttrString(mod, "__file__") : NULL;
        const char *f = file ? PyUnicode_AsUTF8(file) : NULL;
        if (f == NULL)
            PyErr_Clear();
        warned = 1;
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     MP_APLOGNO(0200) "mod_python version mismatch, expected '%s', found "
                     "'%s' (package at %s)", MP_VERSION_STRING, txt ? txt : "?",
                     f ? f : "?");
        Py_XDECREF(file);
    }
    Py_XDECREF(v);
    Py_XDECREF(mod);
}

static void log_sys_path(server_rec *s)
{
    PyObject *sys = PyImport_ImportModule("sys");
    PyObject *path = sys ? PyObject_GetAttrString(sys, "path") : NULL;
    PyObject *repr = path ? PyObject_Repr(path) : NULL;
    const char *txt = repr ? PyUnicode_AsUTF8(repr) : NULL;

    if (txt == NULL)
        PyErr_Clear();
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, MP_APLOGNO(0201) "sys.path is %s",
                 txt ? txt : "?");
    Py_XDECREF(repr);
    Py_XDECREF(path);
    Py_XDECREF(sys);
}

static PyObject *get_method(PyObject *obj, const char *name, int *failed)
{
    PyObject *m = PyObject_GetAttrString(obj, name);
    if (m == NULL)
        *failed = 1;
    return m;
}

/* mp_interp_init_fn: import mod_python.apache in the new interpreter and
 * keep its CallBack's entry points.  GIL held, current state in ip. */
static int interp_init(mp_interp *ip, void *baton)
{
    server_rec *s = baton ? baton : mp_main_server();
    PyObject *apache, *server, *cb;
    int failed = 0;

    apache = PyImport_ImportModule("mod_python.apache");
    if (apache == NULL) {
        mp_log_py_error(NULL, NULL, s, "import mod_python.apache");
        log_sys_path(s);
        return -1;
    }
    check_package_version(s);
    server = mp_server_new(mp_main_server());
    cb = server ? PyObject_CallMethod(apache, "init", "sO", ip->name, server) : NULL;
    Py_XDECREF(server);
    if (cb == NULL) {
        mp_log_py_error(NULL, NULL, s, "mod_python.apache.init");
        Py_DECREF(apache);
        return -1;
    }
    ip->callback = cb;
    ip->m_handler = get_method(cb, "HandlerDispatch", &failed);
    ip->m_resolve = get_method(cb, "HandlerResolve", &failed);
    ip->m_result = get_method(cb, "HandlerResult", &failed);
    ip->m_filter = get_method(cb, "FilterDispatch", &failed);
    ip->m_connection = get_method(cb, "ConnectionDispatch", &failed);
    ip->m_include = get_method(cb, "IncludeDispatch", &failed);
    ip->m_import = get_method(cb, "ImportDispatch", &failed);
    ip->m_sync = get_method(apache, "_reload_sync", &failed);
    Py_DECREF(apache);
    if (failed) {
        mp_log_py_error(NULL, NULL, s, "mod_python.apache.CallBack");
        return -1;
    }
    ip->watch = mp_watch_create(mp_child_pool());
    return 0;
}

mp_interp *mp_dispatch_interp(const char *name, server_rec *s)
{
    mp_interp *ip = mp_interp_get(name, interp_init, s, s);   /* baton: log to s */

    if (ip == NULL)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     MP_APLOGNO(0202) "Can't get/create interpreter '%s'",
                     name ? name : MP_MAIN_INTERPRETER);
    return ip;
}

/* ------------------------------------------------ interpreter choice */

const char *mp_select_interp_name(request_rec *r, conn_rec *c, const mp_dir_cfg *dc,
                                  const mp_handler *first)
{
    server_rec *s;

    if (dc != NULL && dc->interpreter != NULL)
        return dc->interpreter;
    if (dc != NULL && dc->interp_per_directory == 1) {
        const char *f;
        if (r == NULL || r->filename == NULL || *r->filename == '\0')
            return MP_MAIN_INTERPRETER;
        f = r->filename;
        if (r->finfo.filetype == APR_DIR) {
            size_t n = strlen(f);
            return (n && f[n - 1] == '/') ? f : apr_pstrcat(r->pool, f, "/", NULL);
        }
        const char *slash = strrchr(f, '/');
        return slash ? apr_pstrmemdup(r->pool, f, (apr_size_t)(slash - f + 1))
                     : MP_MAIN_INTERPRETER;
    }
    if (dc != NULL && dc->interp_per_directive == 1) {
        if (first != NULL && first->directory != NULL && *first->directory)
            return first->directory;
        return MP_MAIN_INTERPRETER;
    }
    s = r ? r->server : c ? c->base_server : mp_main_server();
    return (s && s->server_hostname) ? s->server_hostname : MP_MAIN_INTERPRETER;
}

/* ------------------------------------------------- entering Python */

int mp_dispatch_flags(const mp_dir_cfg *dc)
{
    return (dc->debug == 1 ? MP_DISPATCH_DEBUG : 0)
        | (dc->autoreload != 0 ? MP_DISPATCH_AUTORELOAD : 0)
        | (dc->enable_pdb == 1 ? MP_DISPATCH_PDB : 0)
        | (dc->python_path != NULL && *dc->python_path ? MP_DISPATCH_PATH : 0);
}

/* Reload poll for the first Python work of a request (no GIL held):
 * whether the importer must sync.  autoreload off -> 0 without a check. */
static int reload_poll(request_rec *r, mp_interp *ip, int autoreload)
{
    if (!autoreload || ip->watch == NULL)
        return 0;
    if (r != NULL && ip->index < 32) {
        /* Once per interpreter per request: all the phases and filters of
         * one request run on one generation of the code. */
        mp_reqstate *rs = mp_reqstate_get(mp_request_root(r), 1);
        unsigned bit = 1u << ip->index;
        if (rs->polled & (int)bit)
            return 0;
        rs->polled |= (int)bit;
    }
    return mp_watch_poll(ip->watch);
}

void mp_dispatch_enter(request_rec *r, mp_interp *ip, int flags, mp_dispatch_ctx *ctx)
{
    int stale = reload_poll(r, ip, flags & MP_DISPATCH_AUTORELOAD);

    mp_interp_enter(ip, &ctx->tok);
    if (stale) {
        PyObject *res = PyObject_CallNoArgs(ip->m_sync);
        if (res == NULL)
            mp_log_py_error(r, NULL, r ? NULL : mp_main_server(), "autoreload");
        Py_XDECREF(res);
    }
    mp_current_push(&ctx->cur, r, flags);
}

void mp_dispatch_leave(mp_dispatch_ctx *ctx)
{
    mp_current_pop(&ctx->cur);
    mp_interp_leave(&ctx->tok);
}

/* ----------------------------------------------------- handler cache */

/* A configured handler entry as resolved in one interpreter: its module's
 * dict and the object name, valid while the importer's generation, the
 * dispatch flags and the PythonPath it was resolved with are the same.
 * The object itself is looked up in the dict per call, so a module that
 * rebinds its handler is followed as before.  Touched with the GIL held. */
typedef enum { SLOT_EMPTY, SLOT_CACHED, SLOT_GENERAL } mp_slot_state;

typedef struct {
    mp_slot_state state;
    unsigned gen;                     /* ip->import_gen when resolved */
    int flags;
    const char *python_path;
    PyObject *module, *dict, *name;   /* strong references */
} mp_hslot;

typedef struct {
    int n;                            /* slots, indexed by mp_interp.index; a slot
                                         never moves (the GIL is let go while one
                                         is filled, and the array may grow then) */
    mp_hslot **slots;
} mp_hcache;

static apr_pool_t *cache_pool;        /* a root pool: used with the GIL held */

static mp_hslot *handler_slot(mp_handler *h, const mp_interp *ip)
{
    mp_hcache *c = h->cache;

    if (cache_pool == NULL)
        return NULL;
    if (c == NULL) {
        c = apr_pcalloc(cache_pool, sizeof(*c));
        h->cache = c;
    }
    if (ip->index >= c->n) {
        int n = ip->index + 4;
        mp_hslot **s = apr_pcalloc(cache_pool, sizeof(*s) * (size_t)n);
        if (c->n > 0)
            memcpy(s, c->slots, sizeof(*s) * (size_t)c->n);
        c->slots = s;
        c->n = n;
    }
    if (c->slots[ip->index] == NULL)
        c->slots[ip->index] = apr_pcalloc(cache_pool, sizeof(mp_hslot));
    return c->slots[ip->index];
}

/* Status of a handler result (or of HandlerDispatch's), logged as
 * HandlerDispatch's when Python raised out of it. */
static int phase_status(request_rec *r, PyObject *res, mp_phase_t phase, const char *hname)
{
    int status;

    if (res == NULL) {
        mp_log_py_error(r, NULL, NULL, mp_phase_names[phase]);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      MP_APLOGNO(0203) "%s: HandlerDispatch() returned nothing.",
                      mp_phase_names[phase]);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    status = mp_handler_status(res, r, NULL, mp_phase_names[phase], hname);
    Py_DECREF(res);
    return status;
}

/* The general path: CallBack.HandlerDispatch(req, flags) runs req.hlist. */
static int call_general(request_rec *r, mp_interp *ip, PyObject *req, mp_phase_t phase,
                        int flags)
{
    PyObject *fl = PyLong_FromLong(flags), *res, *hl;
    mp_handler *h;

    res = fl ? PyObject_CallFunctionObjArgs(ip->m_handler, req, fl, NULL) : NULL;
    Py_XDECREF(fl);
    hl = ((mp_request *)req)->hlist;
    h = hl ? mp_hlist_current(hl) : NULL;
    return phase_status(r, res, phase, h ? h->handler : NULL);
}

/* Fill slot through CallBack.HandlerResolve.  -1 when the import failed
 * (reported: *status is the phase's), else 0 (slot filled). */
static int resolve(request_rec *r, mp_interp *ip, PyObject *req, mp_phase_t phase,
                   mp_handler *h, int flags, const char *python_path, mp_hslot *slot,
                   int *status)
{
    unsigned gen = ip->import_gen;    /* before: a change meanwhile revalidates */
    PyObject *fl = PyLong_FromLong(flags), *res, *mod, *name;

    res = fl ? PyObject_CallFunctionObjArgs(ip->m_resolve, req, fl, NULL) : NULL;
    Py_XDECREF(fl);
    if (res == NULL || PyLong_Check(res)) {
        *status = phase_status(r, res, phase, h->handler);
        return -1;
    }
    slot->gen = gen;
    slot->flags = flags;
    slot->python_path = python_path;
    slot->state = SLOT_GENERAL;
    if (PyTuple_Check(res) && PyTuple_GET_SIZE(res) == 2
        && PyModule_Check(mod = PyTuple_GET_ITEM(res, 0))
        && PyUnicode_Check(name = PyTuple_GET_ITEM(res, 1))) {
        Py_INCREF(mod);
        Py_XSETREF(slot->module, mod);
        Py_INCREF(PyModule_GetDict(mod));
        Py_XSETREF(slot->dict, PyModule_GetDict(mod));
        Py_INCREF(name);
        Py_XSETREF(slot->name, name);
        slot->state = SLOT_CACHED;
    }
    Py_DECREF(res);
    return 0;
}

/* The object of a cached entry (new reference); NULL without an exception
 * when the module has no such name (and no module __getattr__ that could
 * make one), or with one when the general path should find out. */
static PyObject *cached_object(const mp_hslot *slot, int *missing)
{
    PyObject *obj = PyDict_GetItemWithError(slot->dict, slot->name);

    *missing = 0;
    if (obj != NULL) {
        Py_INCREF(obj);
        return obj;
    }
    if (!PyErr_Occurred() && Py_IS_TYPE(slot->module, &PyModule_Type)
        && PyDict_GetItemString(slot->dict, "__getattr__") == NULL)
        *missing = 1;
    PyErr_Clear();
    return NULL;
}

/* Handlers were added to the running phase (req.add_handler()). */
static int list_grew(PyObject *req)
{
    PyObject *hl = ((mp_request *)req)->hlist;
    const mp_handler *cur = hl ? mp_hlist_current(hl) : NULL;

    return cur != NULL && cur->next != NULL;
}

/* The common case: a phase with one configured handler, called from C.
 * Whatever is not an int result (an exception, SERVER_RETURN, another
 * type) or handlers added meanwhile go to CallBack.HandlerResult, which
 * applies HandlerDispatch's rules; so does an entry C cannot cache. */
static int call_lone(request_rec *r, mp_interp *ip, PyObject *req, mp_phase_t phase,
                     mp_handler *h, int flags, const char *python_path)
{
    mp_hslot *slot = handler_slot(h, ip);
    PyObject *obj, *res, *fl, *exc = NULL;
    int missing, status;

    if (slot == NULL)
        return call_general(r, ip, req, phase, flags);
    if ((slot->state == SLOT_EMPTY || slot->gen != ip->import_gen || slot->flags != flags
         || slot->python_path != python_path)
        && resolve(r, ip, req, phase, h, flags, python_path, slot, &status) < 0)
        return status;
    if (slot->state != SLOT_CACHED)
        return call_general(r, ip, req, phase, flags);
    if ((obj = cached_object(slot, &missing)) == NULL)
        return missing && h->silent ? DECLINED : call_general(r, ip, req, phase, flags);
    res = PyObject_CallOneArg(obj, req);
    Py_DECREF(obj);
    if (res != NULL && PyLong_CheckExact(res) && !list_grew(req))
        return phase_status(r, res, phase, h->handler);
    if (res == NULL) {
        PyObject *type, *tb;
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return phase_status(r, NULL, phase, h->handler);   /* as HandlerDispatch */
        PyErr_Fetch(&type, &exc, &tb);
        PyErr_NormalizeException(&type, &exc, &tb);
        if (tb != NULL && exc != NULL)
            PyException_SetTraceback(exc, tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
    }
    fl = PyLong_FromLong(flags);
    obj = fl ? PyObject_CallFunctionObjArgs(ip->m_result, req, fl, res ? res : Py_None,
                                            exc ? exc : Py_None, NULL) : NULL;
    Py_XDECREF(fl);
    Py_XDECREF(res);
    Py_XDECREF(exc);
    return phase_status(r, obj, phase, h->handler);
}

/* ---------------------------------------------------- request phases */

/* The per-request copy of a phase's list: configured entries (with
 * wildcard directories resolved against r->filename), then the dynamic
 * ones.  Copied because req.add_handler() may append to it. */
static mp_handler *request_list(request_rec *r, const mp_handler *conf,
                                const mp_handler *dyn)
{
    mp_handler *head = NULL, **tail = &head;
    const mp_handler *src;
    int pass;

    for (pass = 0; pass < 2; pass++) {
        for (src = pass ? dyn : conf; src != NULL; src = src->next) {
            mp_handler *h = apr_pmemdup(r->pool, src, sizeof(*h));
            if (!h->is_location && (h->is_fnmatch || h->regex) && r->filename)
                h->directory = mp_resolve_directory(r->pool, src, r->filename);
            h->next = NULL;
            h->cache = NULL;
            *tail = h;
            tail = &h->next;
        }
    }
    return head;
}

static ap_in_filter_func python_in_filter;
static ap_out_filter_func python_out_filter;
static ap_filter_rec_t *includes_filter;       /* mod_include's, if loaded */

void mp_dispatch_set_filters(ap_in_filter_func in, ap_out_filter_func out)
{
    python_in_filter = in;
    python_out_filter = out;
}

/* A Python filter, or mod_include's (#python elements), in the chain. */
static int python_filter_in(const ap_filter_t *f)
{
    for (; f != NULL; f = f->next) {
        const ap_filter_rec_t *fr = f->frec;
        if (fr->filter_func.in_func == python_in_filter
            || fr->filter_func.out_func == python_out_filter || fr == includes_filter)
            return 1;
    }
    return 0;
}

/* After a successful handler phase: nothing of ours can run for r any
 * more (no log or cleanup handler, no Python filter, no Python cleanup)? */
static int python_done(request_rec *r, const mp_dir_cfg *dc)
{
    const unsigned later = (1u << MP_PHASE_LOG) | (1u << MP_PHASE_CLEANUP);
    const mp_reqstate *rs = mp_reqstate_peek(r);

    return rs != NULL && !rs->python_at_end && !(dc->phases & later)
        && rs->dyn[MP_PHASE_LOG] == NULL && rs->dyn[MP_PHASE_CLEANUP] == NULL
        && !python_filter_in(r->output_filters) && !python_filter_in(r->input_filters);
}

/* Run phase's handlers (there are some: see run_phase). */
static int dispatch_phase(request_rec *r, const mp_dir_cfg *dc, mp_reqstate *rs,
                          mp_phase_t phase)
{
    mp_handler *conf, *dyn = rs ? rs->dyn[phase] : NULL, *list;
    const char *ext;
    mp_interp *ip;
    mp_dispatch_ctx ctx;
    PyObject *req;
    int lone, flags, status;

    conf = mp_config_phase_handlers(dc, phase, r->filename, &ext);
    if (conf == NULL && dyn == NULL)
        return DECLINED;
    if (rs != NULL)
        rs->dyn[phase] = NULL;   /* consumed: they run now */
    flags = mp_dispatch_flags(dc);
    /* one entry of the server's configuration (an .htaccess one is parsed
     * anew for every request: nothing to cache) whose directory does not
     * depend on the request */
    lone = dyn == NULL && conf->next == NULL && !conf->is_fnmatch && conf->regex == NULL
        && !conf->htaccess && !(flags & MP_DISPATCH_PDB);
    list = lone ? conf : request_list(r, conf, dyn);
    ip = mp_dispatch_interp(mp_select_interp_name(r, NULL, dc, list), r->server);
    if (ip == NULL)
        return HTTP_INTERNAL_SERVER_ERROR;

    mp_dispatch_enter(r, ip, flags, &ctx);
    if ((req = mp_request_get(r, ip)) == NULL) {
        mp_log_py_error(r, NULL, NULL, mp_phase_names[phase]);
        status = HTTP_INTERNAL_SERVER_ERROR;
    }
    else {
        mp_request_set_phase(req, phase, list, ext);
        status = lone ? call_lone(r, ip, req, phase, list, flags, dc->python_path)
                      : call_general(r, ip, req, phase, flags);
        mp_request_set_phase(req, -1, NULL, NULL);
        Py_DECREF(req);
        /* The request's objects go now, while the GIL is held, rather than
         * take it again when the request pool goes. */
        if (phase == MP_PHASE_HANDLER && status == OK && python_done(r, dc))
            mp_reqstate_release(r);
    }
    mp_dispatch_leave(&ctx);

    if (phase == MP_PHASE_AUTHEN) {
        if (status == OK && r->user == NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0205)
                          "After PythonAuthenHandler req->user is NULL. Assign something "
                          "to req.user if returning OK to avoid this error.");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (status == HTTP_UNAUTHORIZED)
            ap_note_auth_failure(r);
    }
    return status;
}

/* Run phase's handlers; DECLINED when there are none: the test every hook
 * of every request makes, so that requests without Python cost nothing. */
static inline int run_phase(request_rec *r, mp_phase_t phase)
{
    const mp_dir_cfg *dc = mp_dir_config(r->per_dir_config);
    mp_reqstate *rs = mp_reqstate_peek(r);

    if (!(dc->phases & (1u << phase)) && (rs == NULL || rs->dyn[phase] == NULL))
        return DECLINED;
    return dispatch_phase(r, dc, rs, phase);
}

/* Result of an "all"-type hook phase pair (Init then the phase itself). */
static int run_init_then(request_rec *r, mp_phase_t phase, int server_level)
{
    mp_dir_cfg *dc = mp_dir_config(r->per_dir_config);
    mp_reqstate *rs = mp_reqstate_peek(r);
    const mp_handler *init = dc->handlers[MP_PHASE_INIT];
    int status;

    if (init != NULL && (server_level || rs == NULL || rs->init_ran != init)) {
        status = run_phase(r, MP_PHASE_INIT);
        if (server_level)
            mp_reqstate_get(r, 1)->init_ran = init;
        if (status != OK && status != DECLINED)
            return status;
    }
    return run_phase(r, phase);
}

int mp_hook_post_read_request(request_rec *r)
{
    return run_init_then(r, MP_PHASE_POST_READ_REQUEST, 1);
}

int mp_hook_translate_name(request_rec *r)
{
    int status = run_phase(r, MP_PHASE_TRANS);

    if (status != DECLINED)
        return status;
    /* A <Location> holding a mod_python handler directive: no URI to file
     * translation, as mod_python 3.5 does. */
    return mp_dir_config(r->per_dir_config)->d_is_location == 1 ? OK : DECLINED;
}

int mp_hook_header_parser(request_rec *r)
{
    return run_init_then(r, MP_PHASE_HEADER_PARSER, 0);
}

int mp_hook_access_checker(request_rec *r) { return run_phase(r, MP_PHASE_ACCESS); }
int mp_hook_check_user_id(request_rec *r) { return run_phase(r, MP_PHASE_AUTHEN); }
int mp_hook_auth_checker(request_rec *r) { return run_phase(r, MP_PHASE_AUTHZ); }
int mp_hook_type_checker(request_rec *r) { return run_phase(r, MP_PHASE_TYPE); }
int mp_hook_fixups(request_rec *r) { return run_phase(r, MP_PHASE_FIXUP); }
int mp_hook_log_transaction(request_rec *r) { return run_phase(r, MP_PHASE_LOG); }

int mp_hook_handler(request_rec *r)
{
    if (!(mp_dir_config(r->per_dir_config)->phases & (1u << MP_PHASE_HANDLER))
        && mp_reqstate_peek(r) == NULL)
        return DECLINED;
    if (r->handler == NULL
        || (strcmp(r->handler, "mod_python") != 0
            && strcmp(r->handler, "python-program") != 0))
        return DECLINED;
    return run_phase(r, MP_PHASE_HANDLER);
}

/* Request pool cleanup (mp_request_end_fn): PythonCleanupHandler. */
static void request_end(request_rec *r, mp_reqstate *rs)
{
    mp_dir_cfg *dc = mp_dir_config(r->per_dir_config);

    if (dc->handlers[MP_PHASE_CLEANUP] == NULL && rs->dyn[MP_PHASE_CLEANUP] == NULL)
        return;
    (void)run_phase(r, MP_PHASE_CLEANUP);
}

/* --------------------------------------------------------- connection */

int mp_hook_process_connection(conn_rec *c)
{
    mp_srv_cfg *sc = mp_srv_config(c->base_server);
    mp_dir_cfg *dc;
    mp_handler *list;
    mp_interp *ip;
    mp_dispatch_ctx ctx;
    PyObject *hlist, *conn, *res, *fl;
    int status = HTTP_INTERNAL_SERVER_ERROR, flags;

    if (sc->connection == NULL)
        return DECLINED;
    dc = mp_dir_config(c->base_server->lookup_defaults);
    list = apr_pmemdup(c->pool, sc->connection, sizeof(*list));
    list->next = NULL;
    ip = mp_dispatch_interp(mp_select_interp_name(NULL, c, dc, NULL), c->base_server);
    if (ip == NULL)
        return HTTP_INTERNAL_SERVER_ERROR;
    flags = mp_dispatch_flags(dc);
    mp_dispatch_enter(NULL, ip, flags, &ctx);
    hlist = mp_hlist_new(c->pool, list);
    conn = hlist ? mp_conn_new(c, hlist) : NULL;
    fl = conn ? PyLong_FromLong(flags) : NULL;
    res = fl ? PyObject_CallFunctionObjArgs(ip->m_connection, conn, fl, NULL) : NULL;
    Py_XDECREF(fl);
    if (res == NULL)
        mp_log_py_error(NULL, c, NULL, "PythonConnectionHandler");
    else
        status = mp_handler_status(res, NULL, c, "PythonConnectionHandler", list->handler);
    Py_XDECREF(res);
    if (conn != NULL)
        ((mp_conn *)conn)->dead = 1;   /* c outlives us, but the hlist does not */
    Py_XDECREF(conn);
    Py_XDECREF(hlist);
    mp_dispatch_leave(&ctx);
    return status;
}

/* ------------------------------------------------------ start-up */

int mp_hook_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    char pyver[16];
    const char *v = Py_GetVersion();   /* a constant string; Python is not started */
    size_t i;

    (void)plog;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;
    /* "3.11.2 (main, ...)" -> "3.11" */
    for (i = 0; i < sizeof(pyver) - 1 && v[i] && v[i] != ' '; i++)
        pyver[i] = v[i];
    pyver[i] = '\0';
    if (strchr(pyver, '.') && strchr(strchr(pyver, '.') + 1, '.'))
        *strchr(strchr(pyver, '.') + 1, '.') = '\0';
    ap_add_version_component(pconf, "mod_python/" MP_VERSION_STRING);
    ap_add_version_component(pconf, apr_pstrcat(pconf, "Python/", pyver, NULL));
    if (ap_state_query(AP_SQ_RUN_MODE) != AP_SQ_RM_NORMAL)
        return OK;   /* -t, -S, ...: never start anything */
    mp_sessdir_post_config(pconf, s);
    return mp_mutex_post_config(pconf, ptemp, s);
}

static mp_reload_mode reload_mode(server_rec *s, apr_interval_time_t *interval)
{
    apr_table_t *opts = mp_srv_config(s)->options;
    const char *m = apr_table_get(opts, "mod_python.autoreload.mechanism");
    const char *iv = apr_table_get(opts, "mod_python.autoreload.interval");

    *interval = iv ? (apr_interval_time_t)(atof(iv) * APR_USEC_PER_SEC) : 0;
    if (m == NULL || *m == '\0' || !strcasecmp(m, "auto"))
        return MP_RELOAD_AUTO;
    if (!strcasecmp(m, "stat"))
        return MP_RELOAD_STAT;
    if (!strcasecmp(m, "inotify"))
        return MP_RELOAD_INOTIFY;
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MP_APLOGNO(0207)
                 "PythonOption mod_python.autoreload.mechanism: unknown value '%s' "
                 "(auto, inotify or stat); using auto", m);
    return MP_RELOAD_AUTO;
}

/* PythonImport lines of every server, in order of appearance. */
static void run_imports(server_rec *s)
{
    server_rec *vs;

    for (vs = s; vs != NULL; vs = vs->next) {
        apr_array_header_t *imps = mp_srv_config(vs)->imports;
        int i;
        for (i = 0; imps && i < imps->nelts; i++) {
            const mp_import *imp = &APR_ARRAY_IDX(imps, i, mp_import);
            mp_interp *ip = mp_dispatch_interp(imp->interpreter, vs);
            mp_gil_token tok;
            PyObject *res, *srv;
            if (ip == NULL)
                continue;
            mp_interp_enter(ip, &tok);
            /* the virtual host's own PythonPath and error log (its server) */
            srv = mp_server_new(vs);
            res = srv ? PyObject_CallFunction(ip->m_import, "sO", imp->module, srv) : NULL;
            Py_XDECREF(srv);
            if (res == NULL) {
                mp_log_py_error(NULL, NULL, vs, "PythonImport");
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, vs, MP_APLOGNO(0208)
                             "directive_PythonImport: error importing %s", imp->module);
            }
            Py_XDECREF(res);
            mp_interp_leave(&tok);
        }
    }
}

void mp_hook_child_init(apr_pool_t *pchild, server_rec *s)
{
    mp_python_settings settings;
    apr_interval_time_t interval;
    mp_reload_mode mode;

    settings.optimize = mp_config_optimize(s);
    settings.python_bin = MP_PYTHON_BIN;
    settings.apache_init = mp_apache_module_init;
    settings.psp_init = mp_psp_module_init;

    mp_mutex_child_init(pchild, s);
    mode = reload_mode(s, &interval);
    mp_reload_child_init(pchild, s, mode, interval);
    mp_reqstate_set_end_hook(request_end);
    if (apr_pool_create(&cache_pool, NULL) != APR_SUCCESS)
        cache_pool = NULL;
    includes_filter = ap_get_output_filter_handle("INCLUDES");
    if (mp_interp_child_init(pchild, s, &settings) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MP_APLOGNO(0209)
                     "Python could not be started in this child: mod_python handlers "
                     "will answer 500");
        return;
    }
    /* The main interpreter is made ready now, so its start-up cost is not
     * paid by the first request. */
    (void)mp_dispatch_interp(MP_MAIN_INTERPRETER, s);
    run_imports(s);
}
