/* mp_capi.h - registration of the public C interface (include/mod_python.h). */
#ifndef MP_CAPI_H
#define MP_CAPI_H

/* Register the APR optional functions (from register_hooks). */
void mp_capi_register(void);

#endif
