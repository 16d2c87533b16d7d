/*
 * mod_python.c - the map of the module: the module record, the directive
 * table and the hook registrations.  Everything it names lives in src/;
 * nothing in src/ calls back up into this file.
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

#define MP_HANDLER_CMD(name, ctx, help) \
    AP_INIT_RAW_ARGS(name, mp_cmd_handler, NULL, ctx, help)
#define MP_FLAG_CMD(name, help) \
    AP_INIT_FLAG(name, mp_cmd_flag, NULL, OR_ALL, help)

/* The filter directives register the filter name with httpd at parse time;
 * they are handed the entry points through cmd->info. */
static const mp_filter_kind mp_in_filter_kind = {1, mp_input_filter, NULL};
static const mp_filter_kind mp_out_filter_kind = {0, NULL, mp_output_filter};

static const command_rec mp_commands[] = {
    MP_HANDLER_CMD("PythonPostReadRequestHandler", RSRC_CONF,
                   "Python post-read-request handlers."),
    MP_HANDLER_CMD("PythonTransHandler", RSRC_CONF,
                   "Python filename translation handlers."),
    MP_HANDLER_CMD("PythonHeaderParserHandler", OR_ALL,
                   "Python header parser handlers."),
    MP_HANDLER_CMD("PythonInitHandler", OR_ALL,
                   "Python request initialisation handlers."),
    MP_HANDLER_CMD("PythonAccessHandler", OR_ALL,
                   "Python access by host address handlers."),
    MP_HANDLER_CMD("PythonAuthenHandler", OR_ALL,
                   "Python authentication handlers."),
    MP_HANDLER_CMD("PythonAuthzHandler", OR_ALL,
                   "Python authorization handlers."),
    MP_HANDLER_CMD("PythonTypeHandler", OR_ALL,
                   "Python MIME type checker/setter handlers."),
    MP_HANDLER_CMD("PythonFixupHandler", OR_ALL,
                   "Python fixups handlers."),
    MP_HANDLER_CMD("PythonHandler", OR_ALL,
                   "Python request (content) handlers."),
    MP_HANDLER_CMD("PythonLogHandler", OR_ALL,
                   "Python logger handlers."),
    MP_HANDLER_CMD("PythonCleanupHandler", OR_ALL,
                   "Python clean up handlers."),
    AP_INIT_RAW_ARGS("PythonConnectionHandler", mp_cmd_connection_handler, NULL,
                     RSRC_CONF, "Python connection handlers."),
    AP_INIT_RAW_ARGS("PythonHandlerModule", mp_cmd_handler_module, NULL, OR_ALL,
                     "A Python module containing handlers to be executed."),
    AP_INIT_TAKE12("PythonInputFilter", mp_cmd_filter, (void *)&mp_in_filter_kind,
                   RSRC_CONF | ACCESS_CONF,
                   "Python input filter: handler [name]."),
    AP_INIT_TAKE12("PythonOutputFilter", mp_cmd_filter, (void *)&mp_out_filter_kind,
                   RSRC_CONF | ACCESS_CONF,
                   "Python output filter: handler [name]."),
    MP_FLAG_CMD("PythonEnablePdb", "Run handlers in pdb (On/Off, -DONE_PROCESS only)."),
    MP_FLAG_CMD("PythonDebug", "Send Python tracebacks to the client (On/Off)."),
    MP_FLAG_CMD("PythonInterpPerDirectory",
                "One Python interpreter per directory (On/Off)."),
    MP_FLAG_CMD("PythonInterpPerDirective",
                "One Python interpreter per directive's directory (On/Off)."),
    MP_FLAG_CMD("PythonAutoReload",
                "Re-import changed modules before handlers run (On/Off)."),
    AP_INIT_TAKE1("PythonInterpreter", mp_cmd_interpreter, NULL, OR_ALL,
                  "Name of the Python interpreter to use."),
    AP_INIT_TAKE1("PythonPath", mp_cmd_path, NULL, OR_ALL,
                  "Python expression giving sys.path."),
    AP_INIT_TAKE12("PythonOption", mp_cmd_option, NULL, OR_ALL,
                   "Key [value] passed to Python handlers."),
    AP_INIT_TAKE2("PythonImport", mp_cmd_import, NULL, RSRC_CONF,
                  "Module to import at child start: module interpreter_name."),
    AP_INIT_TAKE1("PythonOptimize", mp_cmd_optimize, NULL, RSRC_CONF,
                  "Run Python with optimisation level 2 (On/Off)."),
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
