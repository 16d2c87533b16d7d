/*
 * fuzz_psp.c - libFuzzer target for the PSP translator (src/psp_parser.c,
 * flex) and its Python face (src/psp.c: _psp.parsestring).
 *
 * Every input is translated three ways: mp_psp_translate() with includes
 * resolved in a scratch directory (holding a plain page, a page including
 * itself and one including the plain page), _psp.parsestring(bytes), and
 * _psp.parsestring(str) when the input is UTF-8.  Oracle: a page without
 * "<%" is plain text, so its translation must compile and, run with a
 * stand-in `req`, write exactly that text back (with CRLF and a lone CR
 * read as newlines).
 *
 * Licensed under the Apache License, Version 2.0 (see LICENSE).
 */
#include "mp_common.h"
#include "mp_psp.h"
#include "mp_psp_parser.h"
#include "fuzz_common.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char incdir[64];
static PyObject *psp_mod, *roundtrip;

static const char ORACLE[] =
    "class _Req:\n"
    "    def __init__(self):\n"
    "        self.out = []\n"
    "    def write(self, s, flush=1):\n"
    "        self.out.append(s)\n"
    "def roundtrip(code, text):\n"
    "    req = _Req()\n"
    "    exec(compile(code, 'page.psp', 'exec'), {'req': req})\n"
    "    got = ''.join(req.out)\n"
    /* CRLF is a newline (spec); a lone CR is copied into the literal,
     * where Python's tokenizer reads it as a newline too (as in 3.5) */
    "    text = text.replace('\\r\\n', '\\n').replace('\\r', '\\n')\n"
    "    if got != text:\n"
    "        raise AssertionError('text page changed: %r -> %r' % (text, got))\n";

static void write_file(const char *name, const char *text)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", incdir, name);
    f = fopen(path, "w");
    if (f == NULL)
        abort();
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    PyObject *ns;

    strcpy(incdir, "/tmp/mp-fuzz-psp-XXXXXX");
    if (mkdtemp(incdir) == NULL)
        abort();
    write_file("a.psp", "plain <%= 1 %> page\n");
    write_file("self.psp", "x<%@ include file=\"self.psp\" %>y");
    write_file("b.psp", "<% if 1: %>\n<%@ include file=\"a.psp\" %>\n<% %>");
    strcat(incdir, "/");
    if (PyImport_AppendInittab("_psp", mp_psp_module_init) < 0)
        abort();
    fuzz_python_init();
    psp_mod = PyImport_ImportModule("_psp");
    ns = PyDict_New();
    if (psp_mod == NULL || ns == NULL
        || PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0)
        abort();
    fuzz_python_check(PyRun_String(ORACLE, Py_file_input, ns, ns));
    roundtrip = PyDict_GetItemString(ns, "roundtrip");
    if (roundtrip == NULL)
        abort();
}

/* The file reader handed to the scanner for includes (psp.c has its own,
 * static, used through _psp below). */
static int read_whole(const char *path, char **data, size_t *len)
{
    struct stat st;
    FILE *f;
    char *buf;
    long n;

    if (stat(path, &st) != 0)
        return errno;
    if (!S_ISREG(st.st_mode))
        return EISDIR;
    f = fopen(path, "rb");
    if (f == NULL)
        return errno ? errno : ENOENT;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0
        || (buf = malloc((size_t)n + 1)) == NULL) {
        fclose(f);
        return EIO;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return EIO;
    }
    fclose(f);
    buf[n] = '\0';
    *data = buf;
    *len = (size_t)n;
    return 0;
}

static int has_code(const uint8_t *d, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i++)
        if (d[i] == '<' && d[i + 1] == '%')
            return 1;
    return 0;
}

static void via_python(const uint8_t *data, size_t size)
{
    PyObject *b = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)size);
    PyObject *s, *code;

    if (b == NULL)
        abort();
    code = PyObject_CallMethod(psp_mod, "parsestring", "O", b);
    Py_DECREF(b);
    if (code == NULL) {
        fuzz_python_check(NULL);          /* an exception must be set */
    }
    else if (PyErr_Occurred()) {
        fuzz_python_check(code);          /* reports and aborts */
    }
    s = PyUnicode_DecodeUTF8((const char *)data, (Py_ssize_t)size, "strict");
    if (s == NULL) {
        PyErr_Clear();
        Py_XDECREF(code);
        return;
    }
    fuzz_python_check(PyObject_CallMethod(psp_mod, "parsestring", "O", s));
    if (code != NULL && !has_code(data, size) && memchr(data, 0, size) == NULL) {
        PyObject *r = PyObject_CallFunctionObjArgs(roundtrip, code, s, NULL);

        if (r == NULL) {
            PyErr_Print();
            abort();
        }
        Py_DECREF(r);
    }
    Py_XDECREF(code);
    Py_DECREF(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mp_psp_result res;

    if (psp_mod == NULL)
        setup();
    mp_psp_translate((const char *)data, size, incdir, read_whole, &res);
    /* OK: NUL-terminated code (no buffer at all only for nothing) */
    if (res.status == MP_PSP_OK && (res.code.data == NULL ? res.code.len != 0
                                    : res.code.data[res.code.len] != '\0'))
        abort();
    mp_psp_result_free(&res);
    mp_psp_translate((const char *)data, size, NULL, read_whole, &res);
    mp_psp_result_free(&res);
    via_python(data, size);
    return 0;
}
