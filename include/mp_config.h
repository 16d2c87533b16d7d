/*
 * mp_config.h - typed per-directory and per-server configuration, the
 * directive handlers and their table (MP_DIRECTIVES) and the phase catalogue.
 */
#ifndef MP_CONFIG_H
#define MP_CONFIG_H

#include "mp_common.h"
#include "ap_regex.h"

typedef enum {
    MP_PHASE_POST_READ_REQUEST = 0,
    MP_PHASE_TRANS,
    MP_PHASE_HEADER_PARSER,
    MP_PHASE_INIT,
    MP_PHASE_ACCESS,
    MP_PHASE_AUTHEN,
    MP_PHASE_AUTHZ,
    MP_PHASE_TYPE,
    MP_PHASE_FIXUP,
    MP_PHASE_HANDLER,
    MP_PHASE_LOG,
    MP_PHASE_CLEANUP,
    MP_PHASE_CONNECTION,
    MP_PHASE_COUNT
} mp_phase_t;

/* "PythonHandler", ... indexed by mp_phase_t */
extern const char *const mp_phase_names[MP_PHASE_COUNT];
/* -1 when name is not a phase directive name */
int mp_phase_lookup(const char *name);

/* One handler (or filter) entry; lists are singly linked. */
typedef struct mp_handler mp_handler;
struct mp_handler {
    const char *handler;      /* "module[::object]" as written */
    const char *directory;    /* NULL, or canonical dir with trailing '/', or Location text */
    ap_regex_t *regex;        /* directory is a regex pattern */
    unsigned is_fnmatch:1;    /* directory is a wildcard pattern */
    unsigned is_location:1;   /* from <Location>/<LocationMatch> */
    unsigned silent:1;        /* PythonHandlerModule entry */
    unsigned htaccess:1;      /* from an .htaccess file: lives in one request's pool */
    mp_handler *next;
    void *cache;              /* dispatch.c: the resolved handler per interpreter
                                 (configured entries, in the child only) */
};

/* A table as merged from the sections: `t` (a section's own entries)
 * overrides per key what `under` holds.  Merging stacks layers instead of
 * copying tables, so a per-request merge costs the same whatever the
 * number of entries; the flat table is made only when asked for. */
typedef struct mp_layer mp_layer;
struct mp_layer {
    apr_table_t *t;
    const mp_layer *under;
};
/* A new table (in p) with the merged entries of l (NULL: empty). */
apr_table_t *mp_layer_flatten(apr_pool_t *p, const mp_layer *l);
/* The merged value of key in l, NULL if none. */
const char *mp_layer_get(const mp_layer *l, const char *key);

#define MP_UNSET (-1)

typedef struct {
    /* typed copies of the flags, for the C hot path (MP_UNSET = not set) */
    int autoreload;
    int debug;
    int enable_pdb;
    int interp_per_directory;
    int interp_per_directive;
    const char *interpreter;          /* NULL = unset */
    const char *python_path;          /* NULL = unset */

    const mp_layer *directives;       /* req.get_config(): "PythonDebug" -> "1" ... */
    const mp_layer *options;          /* PythonOption */

    mp_handler *handlers[MP_PHASE_COUNT];  /* plain lists per phase */
    unsigned phases;                  /* bit 1 << phase: a plain or "| .ext" list exists */
    apr_hash_t *ext_handlers;         /* "PythonHandler.py" -> mp_handler* (NULL if none) */
    apr_hash_t *in_filters;           /* lower-case filter name -> mp_handler* */
    apr_hash_t *out_filters;

    const char *config_dir;           /* section argument, NULL for server defaults */
    int d_is_location;
} mp_dir_cfg;

typedef struct {
    const char *interpreter;
    const char *module;               /* "module[::function]" */
} mp_import;

typedef struct {
    apr_table_t *directives;          /* server.get_config() */
    apr_table_t *options;             /* server.get_options() */
    mp_handler *connection;           /* PythonConnectionHandler */
    apr_array_header_t *imports;      /* of mp_import, in order of appearance */
    int optimize;                     /* PythonOptimize: MP_UNSET/0/1 */
    const struct mp_venv *venv;       /* PythonVirtualEnv (mp_venv.h), NULL = none */
} mp_srv_cfg;

void *mp_create_dir_config(apr_pool_t *p, char *dir);
void *mp_merge_dir_config(apr_pool_t *p, void *base, void *add);
void *mp_create_srv_config(apr_pool_t *p, server_rec *s);
void *mp_merge_srv_config(apr_pool_t *p, void *base, void *add);

static inline mp_dir_cfg *mp_dir_config(ap_conf_vector_t *v)
{
    return (mp_dir_cfg *)ap_get_module_config(v, &python_module);
}
static inline mp_srv_cfg *mp_srv_config(server_rec *s)
{
    return (mp_srv_cfg *)ap_get_module_config(s->module_config, &python_module);
}

/* cmd->info of PythonInputFilter / PythonOutputFilter */
typedef struct {
    int is_input;
    ap_in_filter_func in;
    ap_out_filter_func out;
} mp_filter_kind;

/* Directive handlers, named by MP_DIRECTIVES below.  As in httpd's own
 * modules, cmd->info says what a directive sets: */
#define MP_PHASE_INFO(phase) ((void *)(intptr_t)(phase))            /* mp_cmd_handler */
#define MP_FLAG_SLOT(field) ((void *)APR_OFFSETOF(mp_dir_cfg, field)) /* mp_cmd_*flag */
const char *mp_cmd_handler(cmd_parms *cmd, void *mconfig, const char *args);
const char *mp_cmd_handler_module(cmd_parms *cmd, void *mconfig, const char *args);
const char *mp_cmd_connection_handler(cmd_parms *cmd, void *mconfig, const char *args);
const char *mp_cmd_filter(cmd_parms *cmd, void *mconfig, const char *handler, const char *name);
/* On/Off into the int at MP_FLAG_SLOT; recorded for req.get_config() and,
 * outside any section, server.get_config() (mp_cmd_dir_flag: not the
 * server's, as mod_python 3.5 did for PythonInterpPerDirectory). */
const char *mp_cmd_flag(cmd_parms *cmd, void *mconfig, int on);
const char *mp_cmd_dir_flag(cmd_parms *cmd, void *mconfig, int on);
const char *mp_cmd_interpreter(cmd_parms *cmd, void *mconfig, const char *arg);
const char *mp_cmd_path(cmd_parms *cmd, void *mconfig, const char *arg);
const char *mp_cmd_option(cmd_parms *cmd, void *mconfig, const char *key, const char *val);
const char *mp_cmd_import(cmd_parms *cmd, void *mconfig, const char *module, const char *interp);
const char *mp_cmd_optimize(cmd_parms *cmd, void *mconfig, const char *arg);

#define MP_HANDLER_CMD(name, phase, ctx, help) \
    AP_INIT_RAW_ARGS(name, mp_cmd_handler, MP_PHASE_INFO(phase), ctx, help)
#define MP_FLAG_CMD(name, fn, field, help) \
    AP_INIT_FLAG(name, fn, MP_FLAG_SLOT(field), OR_ALL, help)

/* The directive table, less its {NULL} end: the module record's (mod_python.c)
 * and the configuration unit test's.  in_kind/out_kind: the mp_filter_kind
 * of PythonInputFilter/PythonOutputFilter. */
#define MP_DIRECTIVES(in_kind, out_kind) \
    MP_HANDLER_CMD("PythonPostReadRequestHandler", MP_PHASE_POST_READ_REQUEST, \
                   RSRC_CONF, "Python post-read-request handlers."), \
    MP_HANDLER_CMD("PythonTransHandler", MP_PHASE_TRANS, RSRC_CONF, \
                   "Python filename translation handlers."), \
    MP_HANDLER_CMD("PythonHeaderParserHandler", MP_PHASE_HEADER_PARSER, OR_ALL, \
                   "Python header parser handlers."), \
    MP_HANDLER_CMD("PythonInitHandler", MP_PHASE_INIT, OR_ALL, \
                   "Python request initialisation handlers."), \
    MP_HANDLER_CMD("PythonAccessHandler", MP_PHASE_ACCESS, OR_ALL, \
                   "Python access by host address handlers."), \
    MP_HANDLER_CMD("PythonAuthenHandler", MP_PHASE_AUTHEN, OR_ALL, \
                   "Python authentication handlers."), \
    MP_HANDLER_CMD("PythonAuthzHandler", MP_PHASE_AUTHZ, OR_ALL, \
                   "Python authorization handlers."), \
    MP_HANDLER_CMD("PythonTypeHandler", MP_PHASE_TYPE, OR_ALL, \
                   "Python MIME type checker/setter handlers."), \
    MP_HANDLER_CMD("PythonFixupHandler", MP_PHASE_FIXUP, OR_ALL, \
                   "Python fixups handlers."), \
    MP_HANDLER_CMD("PythonHandler", MP_PHASE_HANDLER, OR_ALL, \
                   "Python request (content) handlers."), \
    MP_HANDLER_CMD("PythonLogHandler", MP_PHASE_LOG, OR_ALL, \
                   "Python logger handlers."), \
    MP_HANDLER_CMD("PythonCleanupHandler", MP_PHASE_CLEANUP, OR_ALL, \
                   "Python clean up handlers."), \
    AP_INIT_RAW_ARGS("PythonConnectionHandler", mp_cmd_connection_handler, NULL, \
                     RSRC_CONF, "Python connection handlers."), \
    AP_INIT_RAW_ARGS("PythonHandlerModule", mp_cmd_handler_module, NULL, OR_ALL, \
                     "A Python module containing handlers to be executed."), \
    AP_INIT_TAKE12("PythonInputFilter", mp_cmd_filter, (void *)(in_kind), \
                   RSRC_CONF | ACCESS_CONF, "Python input filter: handler [name]."), \
    AP_INIT_TAKE12("PythonOutputFilter", mp_cmd_filter, (void *)(out_kind), \
                   RSRC_CONF | ACCESS_CONF, "Python output filter: handler [name]."), \
    MP_FLAG_CMD("PythonEnablePdb", mp_cmd_flag, enable_pdb, \
                "Run handlers in pdb (On/Off, -DONE_PROCESS only)."), \
    MP_FLAG_CMD("PythonDebug", mp_cmd_flag, debug, \
                "Send Python tracebacks to the client (On/Off)."), \
    MP_FLAG_CMD("PythonInterpPerDirectory", mp_cmd_dir_flag, interp_per_directory, \
                "One Python interpreter per directory (On/Off)."), \
    MP_FLAG_CMD("PythonInterpPerDirective", mp_cmd_flag, interp_per_directive, \
                "One Python interpreter per directive's directory (On/Off)."), \
    MP_FLAG_CMD("PythonAutoReload", mp_cmd_flag, autoreload, \
                "Re-import changed modules before handlers run (On/Off)."), \
    AP_INIT_TAKE1("PythonInterpreter", mp_cmd_interpreter, NULL, OR_ALL, \
                  "Name of the Python interpreter to use."), \
    AP_INIT_TAKE1("PythonPath", mp_cmd_path, NULL, OR_ALL, \
                  "Python expression giving sys.path."), \
    AP_INIT_TAKE12("PythonOption", mp_cmd_option, NULL, OR_ALL, \
                   "Key [value] passed to Python handlers."), \
    AP_INIT_TAKE2("PythonImport", mp_cmd_import, NULL, RSRC_CONF, \
                  "Module to import at child start: module interpreter_name."), \
    AP_INIT_TAKE1("PythonOptimize", mp_cmd_optimize, NULL, RSRC_CONF, \
                  "Run Python with optimisation level 2 (On/Off).")

/* Effective PythonOptimize of the main server (read at child init). */
int mp_config_optimize(server_rec *s);

/* Canonicalise dir (true name, absolute) and ensure a trailing '/';
 * on failure the string is returned as given (plus '/'). */
const char *mp_canonical_dir(apr_pool_t *p, const char *dir);

/* Resolve a wildcard/regex handler directory against filename
 * (mod_python 3.5 manual, "Python*Handler Directive Syntax"); returns h->directory
 * when nothing matches. */
const char *mp_resolve_directory(apr_pool_t *p, const mp_handler *h, const char *filename);

/* Extension of filename as mod_python matches it: "." + all after the first
 * dot of the last path component; NULL if none.  With p == NULL the result
 * points into filename (no copy). */
const char *mp_filename_extension(apr_pool_t *p, const char *filename);

/* The configured list of phase for a request with this filename (NULL for
 * phases before filename is known): the "<PhaseName><ext>" list when one
 * exists for filename's extension (then *ext, if ext != NULL, points at the
 * extension inside filename), else dc->handlers[phase] (*ext = NULL).
 * Allocates nothing. */
mp_handler *mp_config_phase_handlers(const mp_dir_cfg *dc, int phase,
                                     const char *filename, const char **ext);

#endif /* MP_CONFIG_H */
