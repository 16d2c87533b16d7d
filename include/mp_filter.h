/* mp_filter.h - httpd filter entry points for Python filters, and the
 * mod_include "#python" element. */
#ifndef MP_FILTER_H
#define MP_FILTER_H

#include "mp_common.h"

apr_status_t mp_output_filter(ap_filter_t *f, apr_bucket_brigade *bb);
apr_status_t mp_input_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                             ap_input_mode_t mode, apr_read_type_e block,
                             apr_off_t readbytes);
/* optional_fn_retrieve hook: register the "#python" SSI element with
 * mod_include (nothing when mod_include is not loaded). */
void mp_filter_register_ssi(void);

#endif
