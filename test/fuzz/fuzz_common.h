/* fuzz_common.h - helpers shared by the fuzz targets (fuzz_stubs.c). */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include "mp_common.h"

apr_pool_t *fuzz_pool(void);          /* process-wide pool, APR initialised */
void fuzz_python_init(void);          /* main interpreter, once */
void fuzz_python_check(PyObject *result);   /* consistency of a C-API result */
/* Run Python source, return its global `name` (a new reference). */
PyObject *fuzz_python_func(const char *src, const char *name);
/* func(*args) must not raise (aborts with the traceback); steals args. */
void fuzz_python_call(PyObject *func, PyObject *args);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
