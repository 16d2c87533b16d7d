/*
 * mod_python.c - the map of the module: the module record, the directive
 * table (its rows are MP_DIRECTIVES in mp_config.h, shared with the
 * configuration unit test) and the hook registrations.  Everything it
 * names lives in src/; nothing in src/ calls back up into this file.
 *
 * Licensed under the Apache License, Version 2.0 (see LICENSE).
 */
#define MP_MODULE_RECORD 1
#include "mp_common.h"
#include "mp_config.h"
#include "mp_dispatch.h"
#include "mp_filter.h"
#include "mp_filterobj.h"
#include "mp_capi.h"
#include "mp_venv.h"
#include "mp_interp.h"

/* The filter directives register the filter name with httpd at parse time;
 * they are handed the entry points through cmd->info. */
static const mp_filter_kind mp_in_filter_kind = {1, mp_input_filter, NULL};
static const mp_filter_kind mp_out_filter_kind = {0, NULL, mp_output_filter};

static const command_rec mp_commands[] = {
    MP_DIRECTIVES(&mp_in_filter_kind, &mp_out_filter_kind),
    /* not in MP_DIRECTIVES: its handler is venv.c's, outside config.c */
    AP_INIT_TAKE1("PythonVirtualEnv", mp_cmd_virtualenv, NULL, RSRC_CONF,
                  "Virtual environment whose site-packages this server's "
                  "interpreters use."),
    {NULL}
};

/* Python handlers for these phases run before httpd's own modules for the
 * same phase, which would otherwise answer first (mod_mime sets the type,
 * mod_auth_basic authenticates, mod_authz_core authorises). */
static const char *const mp_before_mime[] = {"mod_mime.c", NULL};
static const char *const mp_before_authn[] = {
    "mod_auth_basic.c", "mod_auth_digest.c", "mod_auth_form.c", NULL};
static const char *const mp_before_authz[] = {"mod_authz_core.c", NULL};

static void mp_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_check_config(mp_interp_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(mp_hook_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(mp_hook_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_process_connection(mp_hook_process_connection, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(mp_hook_post_read_request, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(mp_hook_translate_name, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_header_parser(mp_hook_header_parser, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_access_checker(mp_hook_access_checker, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_user_id(mp_hook_check_user_id, NULL, mp_before_authn, APR_HOOK_MIDDLE);
    ap_hook_auth_checker(mp_hook_auth_checker, NULL, mp_before_authz, APR_HOOK_MIDDLE);
    ap_hook_type_checker(mp_hook_type_checker, NULL, mp_before_mime, APR_HOOK_MIDDLE);
    ap_hook_fixups(mp_hook_fixups, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(mp_hook_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(mp_hook_log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
    /* as mod_cgi does: mod_include's registration function exists once
     * every module is loaded */
    ap_hook_optional_fn_retrieve(mp_filter_register_ssi, NULL, NULL, APR_HOOK_MIDDLE);

    mp_capi_register();
    ap_register_input_filter(MP_FILTER_NAME, mp_input_filter, NULL, AP_FTYPE_RESOURCE);
    ap_register_output_filter(MP_FILTER_NAME, mp_output_filter, NULL, AP_FTYPE_RESOURCE);
    mp_dispatch_set_filters(mp_input_filter, mp_output_filter);
}

/* The one symbol httpd looks up; everything else is built hidden. */
#pragma GCC visibility push(default)
AP_DECLARE_MODULE(python) = {
    STANDARD20_MODULE_STUFF,
    mp_create_dir_config,
    mp_merge_dir_config,
    mp_create_srv_config,
    mp_merge_srv_config,
    mp_commands,
    mp_register_hooks
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    , AP_MODULE_FLAG_NONE
#endif
};
#pragma GCC visibility pop
