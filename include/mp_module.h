/* mp_module.h - the built-in _apache module (multi-phase init). */
#ifndef MP_MODULE_H
#define MP_MODULE_H

#include "mp_common.h"

/* PyInit__apache, appended to the inittab before Python starts. */
PyObject *mp_apache_module_init(void);

/* Private to module*.c: add the httpd/APR constants to the module (0 / -1). */
int mp_module_add_constants(PyObject *m);
/* Private to module*.c: parse_qs / parse_qsl (METH_VARARGS | METH_KEYWORDS). */
PyObject *mp_module_parse_qs(PyObject *self, PyObject *args, PyObject *kw);
PyObject *mp_module_parse_qsl(PyObject *self, PyObject *args, PyObject *kw);

#endif
