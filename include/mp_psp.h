/* mp_psp.h - Python Server Pages: the built-in _psp module (src/psp.c) and
 * the PSP -> Python translator (src/psp_parser.l, flex, reentrant).
 *
 * The translator uses no Python API and no globals: it runs with the GIL
 * released, on any number of threads at once. */
#ifndef MP_PSP_H
#define MP_PSP_H

#include "mp_common.h"

/* PyInit__psp, appended to the inittab before Python starts (the top sets
 * mp_python_settings.psp_init to it). */
PyObject *mp_psp_module_init(void);

/* ------------------------------------------- shared by psp.c and the scanner */

/* Includes nested deeper than this are an error (a file including itself). */
#define MP_PSP_MAX_INCLUDE_DEPTH 32

typedef enum {
    MP_PSP_OK = 0,
    MP_PSP_ENOMEM,        /* out of memory */
    MP_PSP_EINCLUDE,      /* an included file could not be read (err_errno, err_path) */
    MP_PSP_EDEPTH,        /* includes nested deeper than MP_PSP_MAX_INCLUDE_DEPTH (err_path) */
    MP_PSP_EINTERNAL      /* the scanner gave up (err_msg) */
} mp_psp_status;

/* A growable byte string (malloc). `failed` is set once an append ran out
 * of memory; later appends are no-ops. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int failed;
} mp_psp_buf;

/* The translation result.  All pointers are malloc'd (mp_psp_result_free). */
typedef struct {
    mp_psp_status status;
    mp_psp_buf code;          /* the Python source (NUL-terminated when OK) */
    mp_psp_buf includes;      /* paths of included files, each NUL-terminated */
    int err_errno;
    char *err_path;
    const char *err_msg;      /* static text */
} mp_psp_result;

/* Translate `len` bytes of PSP source.  `dir` (may be NULL) is prepended to
 * relative include names (plain concatenation, like 3.5).  Always fills
 * *res; returns res->status.  Pure C, no GIL needed. */
mp_psp_status mp_psp_translate(const char *src, size_t len, const char *dir,
                               mp_psp_result *res);
void mp_psp_result_free(mp_psp_result *res);

/* Read a whole regular file into a malloc'd buffer (NUL-terminated).
 * 0 on success; else an errno value (EISDIR/EINVAL for non-regular files). */
int mp_psp_read_file(const char *path, char **data, size_t *len);

/* Append to a buffer (sets buf->failed on allocation failure). */
void mp_psp_buf_append(mp_psp_buf *buf, const char *s, size_t n);

#endif /* MP_PSP_H */
