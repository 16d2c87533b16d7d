/* mp_filter.h - httpd filter entry points for Python filters, and the
 * mod_include "#python" element. */
#ifndef MP_FILTER_H
#define MP_FILTER_H

#include "mp_common.h"

#define MP_FILTER_NAME "MOD_PYTHON"

apr_status_t mp_output_filter(ap_filter_t *f, apr_bucket_brigade *bb);
apr_status_t mp_input_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                             ap_input_mode_t mode, apr_read_type_e block,
                             apr_off_t readbytes);
/* Register the SSI element (child init; no-op without mod_include). */
void mp_filter_register_ssi(void);
/* Filter context carried by the generic MOD_PYTHON filter (req.add_*_filter). */
typedef struct {
    const char *name;      /* per-request registered name, NULL for static */
    int transparent;       /* pass data through without Python */
} mp_filter_ctx;

#endif
