/* mp_dispatch.h - httpd hook entry points for request phases, connections
 * and child start; the bridge to mod_python.apache.CallBack. */
#ifndef MP_DISPATCH_H
#define MP_DISPATCH_H

#include "mp_common.h"
#include "mp_interp.h"
#include "mp_config.h"
#include "mp_reqstate.h"

int mp_hook_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
void mp_hook_child_init(apr_pool_t *pchild, server_rec *s);

int mp_hook_post_read_request(request_rec *r);
int mp_hook_translate_name(request_rec *r);
int mp_hook_header_parser(request_rec *r);
int mp_hook_access_checker(request_rec *r);
int mp_hook_check_user_id(request_rec *r);
int mp_hook_auth_checker(request_rec *r);
int mp_hook_type_checker(request_rec *r);
int mp_hook_fixups(request_rec *r);
int mp_hook_handler(request_rec *r);
int mp_hook_log_transaction(request_rec *r);
int mp_hook_process_connection(conn_rec *c);

/* Shared with filter.c: interpreter choice and acquisition. */
const char *mp_select_interp_name(request_rec *r, conn_rec *c, const mp_dir_cfg *dc,
                                  const mp_handler *first);
/* Get the interpreter (initialising it), NULL on failure (logged). */
mp_interp *mp_dispatch_interp(const char *name, server_rec *s);
/* Dispatch flags (the apache._DEBUG, ... of mod_python.apache) from the
 * typed per-directory configuration. */
#define MP_DISPATCH_DEBUG       1
#define MP_DISPATCH_AUTORELOAD  2
#define MP_DISPATCH_PDB         4
#define MP_DISPATCH_PATH        8      /* a PythonPath is configured */
int mp_dispatch_flags(const mp_dir_cfg *dc);

typedef struct {
    mp_gil_token tok;
    mp_current cur;
} mp_dispatch_ctx;

/* Before any Python code runs for r (NULL: a connection): the reload poll
 * (once per interpreter per request, without the GIL), enter ip, take
 * the changed modules into the importer if the poll found any, and make
 * flags the thread's current dispatch flags.  Undone by mp_dispatch_leave. */
void mp_dispatch_enter(request_rec *r, mp_interp *ip, int flags, mp_dispatch_ctx *ctx);
void mp_dispatch_leave(mp_dispatch_ctx *ctx);

/* The entry points of Python filters (filter.c), handed down by the top
 * floor: a request with such a filter keeps its objects to the end. */
void mp_dispatch_set_filters(ap_in_filter_func in, ap_out_filter_func out);

#endif
