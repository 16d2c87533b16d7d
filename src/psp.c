/*
 * psp.c - the built-in _psp module: PSP pages translated to Python source.
 *
 *   _psp.parse(filename, dir=None, includes=None) -> str
 *       Translates the file dir + filename (plain concatenation, like 3.5);
 *       `dir` is also prepended to relative include names.  OSError when a
 *       file cannot be read.  When `includes` is a list, the path of every
 *       included file is appended to it (mod_python.psp uses this to notice
 *       edits of included files).
 *   _psp.parsestring(source) -> str
 *       `source` is str (taken as UTF-8) or bytes-like.
 *
 * The translation itself is in psp_parser.l (flex); it runs with the GIL
 * released.  The generated source is decoded as UTF-8; bytes that are not
 * UTF-8 (a Latin-1 page) are taken as Latin-1 characters one by one.
 */
#include "mp_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mp_interp.h"
#include "mp_psp.h"
#include "mp_psp_parser.h"

/* ------------------------------------------------------------ file input */

static int read_all(int fd, size_t hint, char **data, size_t *len)
{
    size_t cap = hint + 1, n = 0;
    char *buf = malloc(cap + 1);

    if (buf == NULL)
        return ENOMEM;
    for (;;) {
        ssize_t r;

        if (n == cap) {
            char *p = realloc(buf, cap * 2 + 1);
            if (p == NULL) {
                free(buf);
                return ENOMEM;
            }
            buf = p;
            cap *= 2;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0) {
            int err = errno;
            if (err == EINTR)
                continue;
            free(buf);
            return err;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* mp_psp_read_fn: a whole regular file (EISDIR/EINVAL for others). */
static int read_file(const char *path, char **data, size_t *len)
{
    struct stat st;
    int fd, err;

    *data = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno;
    if (fstat(fd, &st) < 0) {
        err = errno;
        close(fd);
        return err;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    }
    err = read_all(fd, (size_t)st.st_size, data, len);
    close(fd);
    return err;
}

/* ---------------------------------------------------------- result -> Python */

/* UTF-8, with every byte that is not part of valid UTF-8 taken as Latin-1. */
static PyObject *decode_code(const char *s, size_t n)
{
    PyObject *o, *fixed;
    Py_UCS4 *u;
    Py_ssize_t i, len;

    o = PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "strict");
    if (o != NULL || !PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
        return o;
    PyErr_Clear();
    o = PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "surrogateescape");
    if (o == NULL)
        return NULL;
    u = PyUnicode_AsUCS4Copy(o);
    len = PyUnicode_GET_LENGTH(o);
    Py_DECREF(o);
    if (u == NULL)
        return NULL;
    for (i = 0; i < len; i++) {
        if (u[i] >= 0xDC80 && u[i] <= 0xDCFF)
            u[i] -= 0xDC00;               /* the escaped byte, as Latin-1 */
    }
    fixed = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, u, len);
    PyMem_Free(u);
    return fixed;
}

static PyObject *raise_for(const mp_psp_result *res)
{
    switch (res->status) {
    case MP_PSP_ENOMEM:
        return PyErr_NoMemory();
    case MP_PSP_EINCLUDE:
        errno = res->err_errno;
        return PyErr_SetFromErrnoWithFilename(PyExc_OSError, res->err_path);
    case MP_PSP_EDEPTH:
        return PyErr_Format(PyExc_RecursionError,
                            "PSP includes nested deeper than %d levels (does a file "
                            "include itself?) at '%s'", MP_PSP_MAX_INCLUDE_DEPTH,
                            res->err_path ? res->err_path : "?");
    default:
        return PyErr_Format(PyExc_RuntimeError, "PSP scanner failed: %s",
                            res->err_msg ? res->err_msg : "unknown error");
    }
}

static int add_includes(PyObject *list, const mp_psp_result *res)
{
    size_t off = 0;

    while (off < res->includes.len) {
        const char *p = res->includes.data + off;
        size_t n = strlen(p);
        PyObject *s = PyUnicode_DecodeFSDefaultAndSize(p, (Py_ssize_t)n);

        if (s == NULL || PyList_Append(list, s) < 0) {
            Py_XDECREF(s);
            return -1;
        }
        Py_DECREF(s);
        off += n + 1;
    }
    return 0;
}

static PyObject *result_to_python(mp_psp_result *res, PyObject *includes)
{
    PyObject *code;

    if (res->status != MP_PSP_OK)
        return raise_for(res);
    code = decode_code(res->code.data ? res->code.data : "", res->code.len);
    if (code != NULL && includes != NULL && add_includes(includes, res) < 0)
        Py_CLEAR(code);
    return code;
}

/* ---------------------------------------------------------------- functions */

/* `dir` (may be NULL) + `filename`, malloc'd. */
static char *join_path(const char *dir, const char *filename)
{
    size_t dl = dir ? strlen(dir) : 0, fl = strlen(filename);
    char *path = malloc(dl + fl + 1);

    if (path != NULL) {
        if (dl > 0)
            memcpy(path, dir, dl);
        memcpy(path + dl, filename, fl + 1);
    }
    return path;
}

static PyObject *psp_parse(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"filename", "dir", "includes", NULL};
    PyObject *fname_b = NULL, *dir_o = Py_None, *dir_b = NULL, *includes = Py_None;
    PyObject *ret = NULL;
    const char *dir = NULL;
    char *path, *data = NULL;
    size_t len = 0;
    int err;
    mp_psp_result res;

    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|OO:parse", kwlist,
                                     PyUnicode_FSConverter, &fname_b, &dir_o, &includes))
        return NULL;
    if (includes != Py_None && !PyList_Check(includes)) {
        PyErr_SetString(PyExc_TypeError, "parse(): includes must be a list or None");
        goto done;
    }
    if (dir_o != Py_None) {
        if (!PyUnicode_FSConverter(dir_o, &dir_b))
            goto done;
        dir = PyBytes_AS_STRING(dir_b);
    }
    path = join_path(dir, PyBytes_AS_STRING(fname_b));
    if (path == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    MP_BEGIN_BLOCKING
    err = read_file(path, &data, &len);
    if (err == 0)
        mp_psp_translate(data, len, dir, read_file, &res);
    MP_END_BLOCKING
    if (err != 0) {
        errno = err;
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
    }
    else {
        ret = result_to_python(&res, includes == Py_None ? NULL : includes);
        mp_psp_result_free(&res);
    }
    free(data);
    free(path);
done:
    Py_XDECREF(fname_b);
    Py_XDECREF(dir_b);
    return ret;
}

static PyObject *psp_parsestring(PyObject *self, PyObject *arg)
{
    PyObject *ret;
    Py_buffer view;
    const char *src;
    Py_ssize_t n;
    mp_psp_result res;

    (void)self;
    if (PyUnicode_Check(arg)) {
        src = PyUnicode_AsUTF8AndSize(arg, &n);
        if (src == NULL)
            return NULL;
        view.obj = NULL;
    }
    else if (PyObject_CheckBuffer(arg)) {
        if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
            return NULL;
        src = view.buf;
        n = view.len;
    }
    else {
        return PyErr_Format(PyExc_TypeError, "parsestring() argument must be str or "
                            "bytes, not %.100s", Py_TYPE(arg)->tp_name);
    }
    MP_BEGIN_BLOCKING
    mp_psp_translate(src, (size_t)n, NULL, read_file, &res);
    MP_END_BLOCKING
    if (view.obj != NULL)
        PyBuffer_Release(&view);
    ret = result_to_python(&res, NULL);
    mp_psp_result_free(&res);
    return ret;
}

/* ------------------------------------------------------------------ module */

static PyMethodDef psp_methods[] = {
    {"parse", (PyCFunction)(void (*)(void))psp_parse, METH_VARARGS | METH_KEYWORDS,
     "parse(filename, dir=None, includes=None) -> str: translate the PSP file "
     "dir + filename to Python source"},
    {"parsestring", psp_parsestring, METH_O,
     "parsestring(source) -> str: translate PSP source (str or bytes) to Python"},
    {NULL, NULL, 0, NULL}
};

static int psp_exec(PyObject *m)
{
    return PyModule_AddIntConstant(m, "MAX_INCLUDE_DEPTH", MP_PSP_MAX_INCLUDE_DEPTH);
}

static PyModuleDef_Slot psp_slots[] = {
    {Py_mod_exec, (void *)psp_exec},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED},
#endif
    {0, NULL}
};

static struct PyModuleDef psp_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_psp",
    .m_doc = "Python Server Pages: the PSP -> Python translator.",
    .m_size = 0,
    .m_methods = psp_methods,
    .m_slots = psp_slots,
};

PyObject *mp_psp_module_init(void)
{
    return PyModuleDef_Init(&psp_module_def);
}
