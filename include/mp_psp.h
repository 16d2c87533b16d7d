/* mp_psp.h - Python Server Pages: the built-in _psp module (src/psp.c).
 * The translation itself is mp_psp_parser.h's. */
#ifndef MP_PSP_H
#define MP_PSP_H

#include "mp_common.h"

/* PyInit__psp, appended to the inittab before Python starts (the top sets
 * mp_python_settings.psp_init to it). */
PyObject *mp_psp_module_init(void);

#endif /* MP_PSP_H */
