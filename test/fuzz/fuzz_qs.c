/*
 * fuzz_qs.c - libFuzzer target for _apache.parse_qs / parse_qsl
 * (src/module_qs.c).
 *
 * Byte 0 picks keep_blank_values and str or bytes input; the rest is the
 * query string.  Oracle: a plain Python model of the documented rules
 * (split on & and ;, + to space, key up to the first =, blank values
 * dropped unless kept, %XX decoded and bad escapes kept, str results
 * decoded UTF-8 with a Latin-1 fallback); both functions must agree with
 * it, and with each other.
 *
 * Licensed under the Apache License, Version 2.0 (see LICENSE).
 */
#include "mp_common.h"
#include "mp_module.h"
#include "fuzz_common.h"

static PyObject *check;

static const char ORACLE[] =
    "import re\n"
    "_ESC = re.compile(rb'%([0-9a-fA-F]{2})')\n"
    "def _unq(b):\n"
    "    return _ESC.sub(lambda m: bytes([int(m.group(1), 16)]), b)\n"
    "def _text(b):\n"
    "    try:\n"
    "        return b.decode('utf-8')\n"
    "    except UnicodeDecodeError:\n"
    "        return b.decode('latin-1')\n"
    "def model(qs, keep):\n"
    "    as_str = isinstance(qs, str)\n"
    "    raw = qs.encode('utf-8', 'surrogateescape') if as_str else qs\n"
    "    out = []\n"
    "    for seg in re.split(rb'[&;]', raw):\n"
    "        if not seg:\n"
    "            continue\n"
    "        k, _, v = seg.replace(b'+', b' ').partition(b'=')\n"
    "        if not v and not keep:\n"
    "            continue\n"
    "        k, v = _unq(k), _unq(v)\n"
    "        out.append((_text(k), _text(v)) if as_str else (k, v))\n"
    "    return out\n"
    "def check(qsl, qs, source, keep):\n"
    "    want = model(source, keep)\n"
    "    if qsl != want:\n"
    "        raise AssertionError('parse_qsl(%r, %d) = %r, model %r' % (source, keep, qsl, want))\n"
    "    d = {}\n"
    "    for k, v in want:\n"
    "        d.setdefault(k, []).append(v)\n"
    "    if qs != d:\n"
    "        raise AssertionError('parse_qs(%r, %d) = %r, model %r' % (source, keep, qs, d))\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    PyObject *src, *args, *qsl, *qs;
    int keep, as_str;

    if (check == NULL) {
        fuzz_python_init();
        check = fuzz_python_func(ORACLE, "check");
    }
    if (size < 1)
        return 0;
    keep = data[0] & 1;
    as_str = data[0] & 2;
    if (as_str) {
        src = PyUnicode_DecodeUTF8((const char *)data + 1, (Py_ssize_t)size - 1,
                                   "surrogateescape");
    }
    else {
        src = PyBytes_FromStringAndSize((const char *)data + 1, (Py_ssize_t)size - 1);
    }
    if (src == NULL)
        abort();
    args = Py_BuildValue("(Oi)", src, keep);
    if (args == NULL)
        abort();
    qsl = mp_module_parse_qsl(NULL, args, NULL);
    qs = mp_module_parse_qs(NULL, args, NULL);
    Py_DECREF(args);
    if (qsl == NULL || qs == NULL || PyErr_Occurred()) {
        PyErr_Print();
        abort();                      /* never fails on str or bytes */
    }
    fuzz_python_call(check, Py_BuildValue("(NNOi)", qsl, qs, src, keep));
    Py_DECREF(src);
    return 0;
}
