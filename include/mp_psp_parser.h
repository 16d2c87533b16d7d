/* mp_psp_parser.h - the PSP -> Python translator (src/psp_parser.l, flex,
 * reentrant; src/psp_parser.c is generated from it).
 *
 * The translator uses no Python API and no globals: it runs with the GIL
 * released, on any number of threads at once.  It reads nothing itself:
 * included files come through the reader its caller passes in. */
#ifndef MP_PSP_PARSER_H
#define MP_PSP_PARSER_H

#include "mp_common.h"

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

/* Reads a whole file into a malloc'd buffer (NUL-terminated): 0 on
 * success, else an errno value.  psp.c's reads regular files only. */
typedef int (*mp_psp_read_fn)(const char *path, char **data, size_t *len);

/* Translate `len` bytes of PSP source.  `dir` (may be NULL) is prepended to
 * relative include names (plain concatenation, like 3.5); included files
 * are read with `read`.  Always fills *res; returns res->status.  Pure C,
 * no GIL needed. */
mp_psp_status mp_psp_translate(const char *src, size_t len, const char *dir,
                               mp_psp_read_fn read, mp_psp_result *res);
void mp_psp_result_free(mp_psp_result *res);

#endif /* MP_PSP_PARSER_H */
