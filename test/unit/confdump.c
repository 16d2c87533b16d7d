/*
 * confdump.c - a test-only httpd module named python_module that links
 * src/config.c alone (no Python is started) and answers requests handled
 * by "confdump" with a text dump of the effective mod_python configuration.
 * Used by test/unit/test_config_unit.py to check directive parsing and
 * merging without the rest of mod_python.
 */
#include "mp_common.h"
#include "mp_config.h"

static apr_status_t cd_in(ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t mode,
                          apr_read_type_e block, apr_off_t n)
{
    return ap_get_brigade(f->next, bb, mode, block, n);
}

static apr_status_t cd_out(ap_filter_t *f, apr_bucket_brigade *bb)
{
    return ap_pass_brigade(f->next, bb);
}

static const mp_filter_kind cd_in_kind = {1, cd_in, NULL};
static const mp_filter_kind cd_out_kind = {0, NULL, cd_out};

static const command_rec cd_cmds[] = {
    MP_DIRECTIVES(&cd_in_kind, &cd_out_kind),
    {NULL}
};

static void cd_table(request_rec *r, const char *what, const apr_table_t *t)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    int i;

    for (i = 0; i < a->nelts; i++) {
        ap_rprintf(r, "%s %s=%s\n", what, e[i].key, e[i].val);
    }
}

static void cd_list(request_rec *r, const char *key, const mp_handler *h)
{
    for (; h; h = h->next) {
        ap_rprintf(r, "list %s: %s dir=%s fn=%d re=%d loc=%d silent=%d resolved=%s\n",
                   key, h->handler, h->directory ? h->directory : "(null)",
                   h->is_fnmatch, h->regex != NULL, h->is_location, h->silent,
                   mp_resolve_directory(r->pool, h, r->filename)
                   ? mp_resolve_directory(r->pool, h, r->filename) : "(null)");
    }
}

static void cd_hash(request_rec *r, const char *what, apr_hash_t *hash)
{
    apr_hash_index_t *hi;

    if (hash == NULL) {
        ap_rprintf(r, "%s NULL\n", what);
        return;
    }
    for (hi = apr_hash_first(r->pool, hash); hi; hi = apr_hash_next(hi)) {
        const void *k;
        void *v;

        apr_hash_this(hi, &k, NULL, &v);
        cd_list(r, apr_pstrcat(r->pool, what, ":", (const char *)k, NULL), v);
    }
}

static void cd_dir(request_rec *r, const mp_dir_cfg *dc)
{
    const char *ext = NULL;
    const mp_handler *h;
    int i;

    ap_rprintf(r, "flags autoreload=%d debug=%d pdb=%d perdir=%d perdirective=%d\n",
               dc->autoreload, dc->debug, dc->enable_pdb, dc->interp_per_directory,
               dc->interp_per_directive);
    ap_rprintf(r, "interpreter=%s\npath=%s\nconfig_dir=%s\nd_is_location=%d\n",
               dc->interpreter ? dc->interpreter : "(null)",
               dc->python_path ? dc->python_path : "(null)",
               dc->config_dir ? dc->config_dir : "(null)", dc->d_is_location);
    cd_table(r, "directive", mp_layer_flatten(r->pool, dc->directives));
    cd_table(r, "option", mp_layer_flatten(r->pool, dc->options));
    for (i = 0; i < MP_PHASE_COUNT; i++) {
        cd_list(r, mp_phase_names[i], dc->handlers[i]);
    }
    cd_hash(r, "ext", dc->ext_handlers);
    cd_hash(r, "in", dc->in_filters);
    cd_hash(r, "out", dc->out_filters);
    h = mp_config_phase_handlers(dc, MP_PHASE_HANDLER, r->filename, &ext);
    ap_rprintf(r, "effective PythonHandler ext=%s first=%s\n", ext ? ext : "(null)",
               h ? h->handler : "(null)");
}

static int cd_handler(request_rec *r)
{
    const mp_srv_cfg *sc;
    const mp_handler *h;
    int i;

    if (r->handler == NULL || strcmp(r->handler, "confdump") != 0) {
        return DECLINED;
    }
    ap_set_content_type(r, "text/plain");
    ap_rprintf(r, "filename=%s\n", r->filename ? r->filename : "(null)");
    ap_rprintf(r, "extension=%s\n", r->filename
               ? (mp_filename_extension(r->pool, r->filename)
                  ? mp_filename_extension(r->pool, r->filename) : "(null)") : "(null)");
    cd_dir(r, mp_dir_config(r->per_dir_config));
    sc = mp_srv_config(r->server);
    cd_table(r, "srvdirective", sc->directives);
    cd_table(r, "srvoption", sc->options);
    for (h = sc->connection; h; h = h->next) {
        ap_rprintf(r, "connection %s dir=%s\n", h->handler,
                   h->directory ? h->directory : "(null)");
    }
    for (i = 0; i < sc->imports->nelts; i++) {
        const mp_import *imp = &APR_ARRAY_IDX(sc->imports, i, mp_import);

        ap_rprintf(r, "import %s %s\n", imp->module, imp->interpreter);
    }
    ap_rprintf(r, "optimize=%d effective=%d\n", sc->optimize, mp_config_optimize(r->server));
    ap_rprintf(r, "lookup %d %d\n", mp_phase_lookup("PythonAuthzHandler"),
               mp_phase_lookup("Nope"));
    return OK;
}

static void cd_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_handler(cd_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

/* mp_common.h already did APLOG_USE_MODULE(python): no AP_DECLARE_MODULE. */
module AP_MODULE_DECLARE_DATA python_module = {
    STANDARD20_MODULE_STUFF,
    mp_create_dir_config,
    mp_merge_dir_config,
    mp_create_srv_config,
    mp_merge_srv_config,
    cd_cmds,
    cd_hooks,
    AP_MODULE_FLAG_NONE
};
