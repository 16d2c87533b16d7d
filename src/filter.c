/*
 * filter.c - httpd entry points of Python filters (mod_python 3.5 manual: "Overview
 * of a Filter Handler") and the mod_include "#python" element ("Server Side
 * Includes").
 *
 * One call of mp_output_filter()/mp_input_filter() is one "invocation":
 * pick the handler entry, enter the interpreter, wrap the brigades in a new
 * mp_filter object, call CallBack.FilterDispatch(filter), invalidate the
 * object, leave.  After Python returns, the C side makes sure the stream
 * stays well formed whatever the Python code did:
 *
 *  - output: data the filter did not read is passed through if the filter
 *    was disabled (or raised), else dropped; an end of stream it consumed
 *    (read() returned None) or left unread is always passed on, so the
 *    response is terminated even if the filter raised or forgot close();
 *  - input: data produced beyond the caller's readbytes is kept and served
 *    by the next calls (ap_get_client_block() would drop it otherwise);
 *    after an EOS went to the caller, further calls just return EOS.
 *
 * Nothing is accumulated across invocations: each output invocation passes
 * what it produced on before returning, so responses stream in constant
 * memory.
 *
 * Per filter instance state (mp_fstate) is kept in a hash in the request
 * pool keyed by the ap_filter_t, not in f->ctx: for the generic MOD_PYTHON
 * filter f->ctx is the mp_filter_ctx made by req.add_*_filter(), which we
 * read (name) and update (transparent) but do not own.
 */
#include "mp_common.h"
#include "mp_filter.h"
#include "mp_filterobj.h"
#include "mp_config.h"
#include "mp_dispatch.h"
#include "mp_interp.h"
#include "mp_reqstate.h"
#include "mp_request.h"
#include "mp_log.h"
#include "mp_util.h"

#include "apr_optional.h"
#include "mod_include.h"

#define MP_FSTATE_KEY "mod_python:filter-states"

typedef struct {
    mp_filter_ctx pub;               /* name (copied), transparent */
    mp_filter_ctx *owner_ctx;        /* f->ctx of a generic filter, kept in sync */
    int broken;                      /* no handler entry: keep failing */
    int eos_delivered;               /* input: EOS returned to the caller */
    apr_bucket_brigade *bb_in;       /* input: fetched, not yet read by Python */
    apr_bucket_brigade *pending;     /* input: produced beyond readbytes */
    apr_bucket_brigade *bb_out;      /* output: outgoing brigade, reused */
} mp_fstate;

/* What the C side needs to know about an invocation once the filter object
 * is gone. */
typedef struct {
    int ran;                         /* FilterDispatch returned normally */
    int closed, disabled, eos_seen, eos_passed;
    apr_status_t rc;
} mp_frun;

static int is_generic(ap_filter_t *f)
{
    return f->frec && f->frec->name && strcasecmp(f->frec->name, MP_FILTER_NAME) == 0;
}

static mp_fstate *fstate_get(ap_filter_t *f)
{
    apr_pool_t *p = f->r ? f->r->pool : f->c->pool;
    apr_hash_t *h = NULL;
    mp_fstate *st;

    apr_pool_userdata_get((void **)&h, MP_FSTATE_KEY, p);
    if (h == NULL) {
        h = apr_hash_make(p);
        apr_pool_userdata_setn(h, MP_FSTATE_KEY, NULL, p);
    }
    st = apr_hash_get(h, &f, sizeof(f));
    if (st != NULL)
        return st;

    st = apr_pcalloc(p, sizeof(*st));
    if (is_generic(f) && f->ctx != NULL) {
        st->owner_ctx = f->ctx;
        st->pub.name = st->owner_ctx->name;
        st->pub.transparent = st->owner_ctx->transparent;
    }
    apr_hash_set(h, apr_pmemdup(p, &f, sizeof(f)), sizeof(f), st);
    return st;
}

static void set_transparent(mp_fstate *st)
{
    st->pub.transparent = 1;
    if (st->owner_ctx)
        st->owner_ctx->transparent = 1;
}

/* The handler entry of this filter: per-request registration (generic
 * filter with a name) or the per-dir config by httpd filter name. */
static const mp_handler *find_entry(ap_filter_t *f, mp_fstate *st, int is_input,
                                    mp_dir_cfg *dc)
{
    apr_hash_t *h;
    request_rec *r;

    if (st->pub.name != NULL) {
        for (r = f->r; r != NULL; r = r->main) {
            mp_reqstate *rs = mp_reqstate_get(r, 0);
            const mp_handler *e;

            h = rs ? (is_input ? rs->in_filters : rs->out_filters) : NULL;
            e = h ? apr_hash_get(h, st->pub.name, APR_HASH_KEY_STRING) : NULL;
            if (e != NULL)
                return e;
        }
        return NULL;
    }
    h = dc ? (is_input ? dc->in_filters : dc->out_filters) : NULL;
    if (h == NULL || f->frec == NULL || f->frec->name == NULL)
        return NULL;
    return apr_hash_get(h, f->frec->name, APR_HASH_KEY_STRING);
}

static void log_missing(ap_filter_t *f, mp_fstate *st)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, f->r, MP_APLOGNO(0800)
                  "python_filter: Could not find registered filter. (%s)",
                  st->pub.name ? st->pub.name
                               : (f->frec && f->frec->name ? f->frec->name : "?"));
}

/* Enter the interpreter for entry h and run FilterDispatch on a new filter
 * object.  Returns -1 when Python could not be reached (logged). */
static int run_python(ap_filter_t *f, mp_fstate *st, const mp_handler *h,
                      mp_dir_cfg *dc, apr_bucket_brigade *bb, int is_input,
                      ap_input_mode_t mode, apr_read_type_e block,
                      apr_off_t readbytes, mp_frun *res)
{
    request_rec *r = f->r;
    mp_handler entry = *h;
    mp_interp *ip;
    mp_dispatch_ctx ctx;
    PyObject *req, *fo, *ret, *flags;
    mp_filter *fl;

    entry.directory = mp_resolve_directory(r->pool, h, r->filename);
    entry.next = NULL;
    ip = mp_dispatch_interp(mp_select_interp_name(r, NULL, dc, &entry), r->server);
    if (ip == NULL)
        return -1;
    mp_dispatch_enter(r, ip, mp_dispatch_flags(dc), &ctx);
    if (ip->m_filter == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0801)
                      "python_filter: interpreter '%s' has no FilterDispatch", ip->name);
        mp_dispatch_leave(&ctx);
        return -1;
    }
    req = mp_request_get(r, ip);
    if (req == NULL) {
        mp_log_py_error(r, NULL, NULL, "python_filter: request object");
        mp_dispatch_leave(&ctx);
        return -1;
    }
    fo = mp_filter_new(f, bb, is_input, mode, block, readbytes, entry.handler,
                       entry.directory, req);
    if (fo == NULL) {
        mp_log_py_error(r, NULL, NULL, "python_filter: filter object");
        Py_DECREF(req);
        mp_dispatch_leave(&ctx);
        return -1;
    }
    fl = (mp_filter *)fo;
    if (is_input)
        fl->bb_in = st->bb_in;
    else
        fl->bb_out = st->bb_out;

    flags = PyLong_FromLong(ctx.cur.flags);
    ret = flags ? PyObject_CallFunctionObjArgs(ip->m_filter, fo, flags, NULL) : NULL;
    Py_XDECREF(flags);
    if (ret == NULL) {
        mp_log_py_error(r, NULL, NULL, "python_filter");
        res->ran = 0;
    }
    else {
        Py_DECREF(ret);
        res->ran = 1;
    }
    res->closed = fl->closed;
    res->disabled = fl->disabled || !res->ran;
    res->eos_seen = fl->eos_seen;
    res->eos_passed = fl->eos_passed;
    res->rc = fl->rc;
    mp_filter_invalidate(fo);
    Py_DECREF(fo);
    Py_DECREF(req);
    mp_dispatch_leave(&ctx);
    return 0;
}

/* ------------------------------------------------------------ output */

/* After the Python invocation (no GIL): pass on what remains so the
 * stream is complete. */
static apr_status_t output_finish(ap_filter_t *f, mp_fstate *st,
                                  apr_bucket_brigade *bb, const mp_frun *res)
{
    apr_status_t rv = res->rc;
    int want_eos;

    if (res->closed || res->eos_passed) {
        apr_brigade_cleanup(bb);            /* nothing may follow an EOS */
        apr_brigade_cleanup(st->bb_out);
        return rv;
    }
    want_eos = res->eos_seen;
    if (res->disabled) {
        APR_BRIGADE_CONCAT(st->bb_out, bb);
        if (mp_brigade_has_eos(st->bb_out))
            want_eos = 0;
    }
    else {
        if (mp_brigade_has_eos(bb))
            want_eos = 1;
        apr_brigade_cleanup(bb);            /* unread data is dropped */
    }
    if (want_eos) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, f->r, MP_APLOGNO(0802)
                      "python_filter: %s did not close the stream; end of stream "
                      "passed on", f->frec->name);
        APR_BRIGADE_INSERT_TAIL(st->bb_out, apr_bucket_eos_create(f->c->bucket_alloc));
    }
    if (!APR_BRIGADE_EMPTY(st->bb_out)) {
        apr_status_t rv2 = ap_pass_brigade(f->next, st->bb_out);
        apr_brigade_cleanup(st->bb_out);
        if (rv == APR_SUCCESS)
            rv = rv2;
    }
    return rv;
}

apr_status_t mp_output_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    mp_fstate *st;
    mp_dir_cfg *dc;
    const mp_handler *h;
    mp_frun res = {0, 0, 0, 0, 0, APR_SUCCESS};

    if (r == NULL || !mp_interp_python_ready()) {
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    st = fstate_get(f);
    if (st->pub.transparent)
        return ap_pass_brigade(f->next, bb);
    if (APR_BRIGADE_EMPTY(bb))
        return APR_SUCCESS;
    dc = mp_dir_config(r->per_dir_config);
    h = find_entry(f, st, 0, dc);
    if (h == NULL) {
        /* Fail this call; the error response that follows goes through. */
        log_missing(f, st);
        set_transparent(st);
        apr_brigade_cleanup(bb);
        return APR_EGENERAL;
    }
    if (st->bb_out == NULL)
        st->bb_out = apr_brigade_create(r->pool, f->c->bucket_alloc);
    if (run_python(f, st, h, dc, bb, 0, AP_MODE_READBYTES, APR_BLOCK_READ, 0, &res) < 0) {
        res.disabled = 1;
        res.rc = APR_SUCCESS;
    }
    if (res.disabled)
        set_transparent(st);
    return output_finish(f, st, bb, &res);
}

/* ------------------------------------------------------------- input */

/* Move the first readbytes (READBYTES mode; all otherwise) of st->pending
 * into bb.  Returns 0 if nothing was pending. */
static int serve_pending(mp_fstate *st, apr_bucket_brigade *bb,
                         ap_input_mode_t mode, apr_off_t readbytes)
{
    apr_bucket *after = NULL;

    if (st->pending == NULL || APR_BRIGADE_EMPTY(st->pending))
        return 0;
    if (mode == AP_MODE_READBYTES && readbytes > 0
        && apr_brigade_partition(st->pending, readbytes, &after) != APR_SUCCESS)
        after = NULL;
    if (after == NULL) {
        APR_BRIGADE_CONCAT(bb, st->pending);
    }
    else {
        while (APR_BRIGADE_FIRST(st->pending) != after) {
            apr_bucket *b = APR_BRIGADE_FIRST(st->pending);
            APR_BUCKET_REMOVE(b);
            APR_BRIGADE_INSERT_TAIL(bb, b);
        }
    }
    return 1;
}

/* Keep what exceeds readbytes for the next call. */
static void limit_to_readbytes(ap_filter_t *f, mp_fstate *st, apr_bucket_brigade *bb,
                               ap_input_mode_t mode, apr_off_t readbytes)
{
    apr_bucket *after = NULL;

    if (mode != AP_MODE_READBYTES || readbytes <= 0)
        return;
    if (apr_brigade_partition(bb, readbytes, &after) != APR_SUCCESS
        || after == APR_BRIGADE_SENTINEL(bb))
        return;
    if (st->pending == NULL)
        st->pending = apr_brigade_create(f->r->pool, f->c->bucket_alloc);
    while (after != APR_BRIGADE_SENTINEL(bb)) {
        apr_bucket *next = APR_BUCKET_NEXT(after);
        APR_BUCKET_REMOVE(after);
        APR_BRIGADE_INSERT_TAIL(st->pending, after);
        after = next;
    }
}

/* Serve what is left (pending, then data fetched but unread) or pass
 * through to the next filter. */
static apr_status_t input_passthrough(ap_filter_t *f, mp_fstate *st,
                                      apr_bucket_brigade *bb, ap_input_mode_t mode,
                                      apr_read_type_e block, apr_off_t readbytes)
{
    if (st->bb_in != NULL && !APR_BRIGADE_EMPTY(st->bb_in)) {
        if (st->pending == NULL)
            st->pending = apr_brigade_create(f->r->pool, f->c->bucket_alloc);
        APR_BRIGADE_CONCAT(st->pending, st->bb_in);
    }
    if (serve_pending(st, bb, mode, readbytes))
        return APR_SUCCESS;
    return ap_get_brigade(f->next, bb, mode, block, readbytes);
}

/* After the Python invocation (no GIL). */
static apr_status_t input_finish(ap_filter_t *f, mp_fstate *st, apr_bucket_brigade *bb,
                                 const mp_frun *res, ap_input_mode_t mode,
                                 apr_read_type_e block, apr_off_t readbytes)
{
    apr_status_t rv = APR_SUCCESS;

    if (res->disabled) {
        if (st->bb_in != NULL && !APR_BRIGADE_EMPTY(st->bb_in))
            APR_BRIGADE_CONCAT(bb, st->bb_in);
    }
    if (res->eos_seen && !res->closed && !mp_brigade_has_eos(bb)) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, f->r, MP_APLOGNO(0803)
                      "python_filter: input filter %s did not close the stream; "
                      "end of stream added", f->frec->name);
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
    }
    if (res->disabled && APR_BRIGADE_EMPTY(bb))
        rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    else if (APR_BRIGADE_EMPTY(bb) && res->rc != APR_SUCCESS)
        rv = res->rc;
    limit_to_readbytes(f, st, bb, mode, readbytes);
    if (mp_brigade_has_eos(bb))
        st->eos_delivered = 1;
    return rv;
}

apr_status_t mp_input_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                             ap_input_mode_t mode, apr_read_type_e block,
                             apr_off_t readbytes)
{
    request_rec *r = f->r;
    mp_fstate *st;
    mp_dir_cfg *dc;
    const mp_handler *h;
    mp_frun res = {0, 0, 0, 0, 0, APR_SUCCESS};

    if (r == NULL || !mp_interp_python_ready() || mode == AP_MODE_INIT)
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    st = fstate_get(f);
    if (serve_pending(st, bb, mode, readbytes)) {
        if (mp_brigade_has_eos(bb))
            st->eos_delivered = 1;
        return APR_SUCCESS;
    }
    if (st->eos_delivered) {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(f->c->bucket_alloc));
        return APR_SUCCESS;
    }
    if (st->broken)
        return APR_EGENERAL;
    if (st->pub.transparent)
        return input_passthrough(f, st, bb, mode, block, readbytes);
    dc = mp_dir_config(r->per_dir_config);
    h = find_entry(f, st, 1, dc);
    if (h == NULL) {
        log_missing(f, st);
        st->broken = 1;
        return APR_EGENERAL;
    }
    if (st->bb_in == NULL)
        st->bb_in = apr_brigade_create(r->pool, f->c->bucket_alloc);
    if (run_python(f, st, h, dc, bb, 1, mode, block, readbytes, &res) < 0) {
        set_transparent(st);
        return input_passthrough(f, st, bb, mode, block, readbytes);
    }
    if (res.disabled)
        set_transparent(st);
    return input_finish(f, st, bb, &res, mode, block, readbytes);
}

/* -------------------------------------------------------- SSI #python */

static APR_OPTIONAL_FN_TYPE(ap_ssi_get_tag_and_value) *ssi_get_tag_and_value;

/* Parse the element's attributes: exactly one eval= or exec= with a
 * non-empty value.  Returns 0 and sets what and code, or -1 (logged). */
static int ssi_parse(include_ctx_t *ctx, request_rec *r, const char **what,
                     const char **code)
{
    *what = *code = NULL;
    for (;;) {
        char *tag = NULL, *val = NULL;

        ssi_get_tag_and_value(ctx, &tag, &val, SSI_VALUE_RAW);
        if (tag == NULL)
            break;
        if (strcmp(tag, "eval") != 0 && strcmp(tag, "exec") != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0810)
                          "unexpected '%s' parameter in tag python in %s",
                          tag, r->filename);
            return -1;
        }
        if (*what != NULL) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0811)
                          "multiple 'eval/exec' parameters in tag python in %s",
                          r->filename);
            return -1;
        }
        if (val == NULL || *val == '\0') {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0812)
                          "empty value for '%s' parameter in tag python in %s",
                          tag, r->filename);
            return -1;
        }
        *what = tag;
        *code = val;
    }
    if (*what == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0813)
                      "missing 'eval/exec' parameter in tag python in %s", r->filename);
        return -1;
    }
    return 0;
}

/* Run IncludeDispatch(filter, what, code) in the chosen interpreter.
 * Returns 0 on success, -1 if the SSI error text must be inserted. */
static int ssi_run(ap_filter_t *f, apr_bucket_brigade *bb, const char *what,
                   const char *code)
{
    request_rec *r = f->r;
    mp_dir_cfg *dc = mp_dir_config(r->per_dir_config);
    mp_interp *ip;
    mp_dispatch_ctx ctx;
    PyObject *req = NULL, *fo = NULL, *tag = NULL, *src = NULL, *ret = NULL, *flags = NULL;
    int ok = 0;

    ip = mp_dispatch_interp(mp_select_interp_name(r, NULL, dc, NULL), r->server);
    if (ip == NULL)
        return -1;
    mp_dispatch_enter(r, ip, mp_dispatch_flags(dc), &ctx);
    if (ip->m_include == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0815)
                      "#python: interpreter '%s' has no IncludeDispatch", ip->name);
        mp_dispatch_leave(&ctx);
        return -1;
    }
    if ((req = mp_request_get(r, ip)) != NULL
        && (fo = mp_filter_new(f, NULL, 0, AP_MODE_READBYTES, APR_BLOCK_READ, 0,
                               NULL, NULL, req)) != NULL
        && (tag = mp_str(what)) != NULL
        && (src = mp_str(code)) != NULL
        && (flags = PyLong_FromLong(ctx.cur.flags)) != NULL) {
        /* written data goes into mod_include's brigade, after the text
         * that preceded the element; flush() passes it on in order */
        ((mp_filter *)fo)->bb_out = bb;
        ret = PyObject_CallFunctionObjArgs(ip->m_include, fo, tag, src, flags, NULL);
    }
    /* IncludeDispatch answers OK, or another status once it has reported
     * the element's error itself; NULL means mod_python itself failed. */
    if (ret == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0814)
                      "#python element in %s could not be run", r->filename);
        mp_log_py_error(r, NULL, NULL, "#python");
    }
    else if (PyLong_Check(ret)) {
        long v = PyLong_AsLong(ret);
        if (v == -1 && PyErr_Occurred())
            PyErr_Clear();
        ok = (v == OK);
    }
    Py_XDECREF(ret);
    Py_XDECREF(tag);
    Py_XDECREF(src);
    Py_XDECREF(flags);
    if (fo != NULL) {
        mp_filter_invalidate(fo);
        Py_DECREF(fo);
    }
    Py_XDECREF(req);
    mp_dispatch_leave(&ctx);
    return ok ? 0 : -1;
}

static apr_status_t mp_ssi_handler(include_ctx_t *ctx, ap_filter_t *f,
                                   apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    const char *what, *code;

    if (!(ctx->flags & SSI_FLAG_PRINTING))
        return APR_SUCCESS;
    if (ctx->flags & SSI_FLAG_NO_EXEC) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0816)
                      "#python used but not allowed in %s", r->filename);
        SSI_CREATE_ERROR_BUCKET(ctx, f, bb);
        return APR_SUCCESS;
    }
    if (ssi_parse(ctx, r, &what, &code) < 0) {
        SSI_CREATE_ERROR_BUCKET(ctx, f, bb);
        return APR_SUCCESS;
    }
    if (!mp_interp_python_ready()) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MP_APLOGNO(0817)
                      "#python: Python is not available in this process (%s)",
                      r->filename);
        SSI_CREATE_ERROR_BUCKET(ctx, f, bb);
        return APR_SUCCESS;
    }
    if (ssi_run(f, bb, what, code) < 0)
        SSI_CREATE_ERROR_BUCKET(ctx, f, bb);
    return APR_SUCCESS;
}

void mp_filter_register_ssi(void)
{
    APR_OPTIONAL_FN_TYPE(ap_register_include_handler) *reg;

    reg = APR_RETRIEVE_OPTIONAL_FN(ap_register_include_handler);
    ssi_get_tag_and_value = APR_RETRIEVE_OPTIONAL_FN(ap_ssi_get_tag_and_value);
    if (reg == NULL || ssi_get_tag_and_value == NULL)
        return;                               /* mod_include not loaded */
    reg("python", mp_ssi_handler);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, NULL, MP_APLOGNO(0818)
                 "registered the #python SSI element");
}
