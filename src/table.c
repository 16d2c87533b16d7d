/*
 * table.c - the mp_table object (mod_python 3.5 manual: "Table Object (mp_table)"):
 * an ordered, case-insensitive, multi-valued mapping over an apr_table_t.
 *
 * A table either owns its memory (apache.table(): an unmanaged APR pool
 * destroyed with the object) or is a live view of httpd's table, kept
 * valid by a reference to its `owner` (request, connection, server,
 * filter).  A view raises instead of touching the table once the owner is
 * dead.
 *
 * Strings: keys and values are read with mp_str() (UTF-8, Latin-1
 * fallback: never raises on bad bytes); they are stored with
 * mp_latin1_from_py() (str as Latin-1, bytes as is).
 */
#include "mp_common.h"
#include "mp_table.h"

typedef struct {
    PyObject_HEAD
    mp_table *t;           /* NULL once exhausted */
    int pos;
    int size;              /* entry count when the iterator was made */
    int kind;              /* MP_ITER_* */
} mp_table_iter;

enum { MP_ITER_KEYS, MP_ITER_VALUES, MP_ITER_ITEMS };

static PyTypeObject MpTableIter_Type;

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* 0 if usable; -1 with RuntimeError when the underlying memory is gone. */
static int tbl_check(mp_table *self)
{
    if (mp_owner_dead(self->owner)) {
        mp_err_dead(Py_TYPE(self->owner)->tp_name);
        return -1;
    }
    if (self->table == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "mp_table object is no longer valid");
        return -1;
    }
    return 0;
}

#define TBL_CHECK(self, ret) do { if (tbl_check(self) < 0) return (ret); } while (0)

static const apr_table_entry_t *tbl_elts(apr_table_t *t, int *n)
{
    const apr_array_header_t *a = apr_table_elts(t);
    *n = a->nelts;
    return (const apr_table_entry_t *)a->elts;
}

static apr_pool_t *tbl_pool(apr_table_t *t)
{
    return apr_table_elts(t)->pool;
}

static int key_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

/* A key for lookups, as a bytes object (new reference): str as Latin-1
 * (UTF-8 if it has characters above U+00FF, which then simply matches
 * what was read back as UTF-8), bytes as is; other types TypeError, as in
 * mod_python 3.5 (`5 in t` raises, where a dict would say False). */
static PyObject *lookup_key(PyObject *k)
{
    if (PyBytes_Check(k)) {
        Py_INCREF(k);
        return k;
    }
    if (PyUnicode_Check(k)) {
        PyObject *b = PyUnicode_AsLatin1String(k);
        if (b == NULL && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            PyErr_Clear();
            b = PyUnicode_AsUTF8String(k);
        }
        return b;
    }
    PyErr_Format(PyExc_TypeError, "table keys must be strings, not %.100s",
                 Py_TYPE(k)->tp_name);
    return NULL;
}

/* Python -> C with str() conversion first (constructor/update). */
static const char *conv_str(apr_pool_t *p, PyObject *o, const char *what)
{
    const char *res;
    PyObject *s;

    if (PyUnicode_Check(o) || PyBytes_Check(o))
        return mp_latin1_from_py(p, o, what);
    s = PyObject_Str(o);
    if (s == NULL)
        return NULL;
    res = mp_latin1_from_py(p, s, what);
    Py_DECREF(s);
    return res;
}

/* t[k] = v on the C level with values already converted. */
static int tbl_set_py(mp_table *self, PyObject *k, PyObject *v, int strconv)
{
    apr_pool_t *p = tbl_pool(self->table);
    const char *ck, *cv;

    ck = strconv ? conv_str(p, k, "table key") : mp_latin1_from_py(p, k, "table key");
    if (ck == NULL)
        return -1;
    cv = strconv ? conv_str(p, v, "table value") : mp_latin1_from_py(p, v, "table value");
    if (cv == NULL)
        return -1;
    apr_table_setn(self->table, ck, cv);
    return 0;
}

static PyObject *entry_tuple(const apr_table_entry_t *e)
{
    PyObject *k, *v, *res;

    k = mp_str(e->key);
    if (k == NULL)
        return NULL;
    v = mp_str(e->val);
    if (v == NULL) {
        Py_DECREF(k);
        return NULL;
    }
    res = PyTuple_Pack(2, k, v);
    Py_DECREF(k);
    Py_DECREF(v);
    return res;
}

/* Values of all entries matching ckey starting at `from`: NULL without an
 * exception when there is none; one value; or a list of values. */
static PyObject *tbl_collect(apr_table_t *t, const char *ckey, int from)
{
    int i, n;
    const apr_table_entry_t *e = tbl_elts(t, &n);
    PyObject *first = NULL, *list = NULL, *v;

    for (i = from; i < n; i++) {
        if (!key_eq(e[i].key, ckey))
            continue;
        v = mp_str(e[i].val);
        if (v == NULL)
            goto fail;
        if (first == NULL && list == NULL) {
            first = v;
            continue;
        }
        if (list == NULL) {
            list = PyList_New(1);
            if (list == NULL) {
                Py_DECREF(v);
                goto fail;
            }
            PyList_SET_ITEM(list, 0, first);
            first = NULL;
        }
        if (PyList_Append(list, v) < 0) {
            Py_DECREF(v);
            goto fail;
        }
        Py_DECREF(v);
    }
    return list ? list : first;
fail:
    Py_XDECREF(first);
    Py_XDECREF(list);
    return NULL;
}

/* The table as a dict: a key that occurs several times maps to the list of
 * its values (first spelling of the key wins). */
static PyObject *tbl_to_dict(apr_table_t *t)
{
    int i, j, n;
    const apr_table_entry_t *e = tbl_elts(t, &n);
    PyObject *d = PyDict_New(), *k, *v;

    if (d == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        for (j = 0; j < i; j++)
            if (key_eq(e[j].key, e[i].key))
                break;
        if (j < i || e[i].key == NULL)
            continue;
        v = tbl_collect(t, e[i].key, i);
        if (v == NULL)
            goto fail;
        k = mp_str(e[i].key);
        if (k == NULL || PyDict_SetItem(d, k, v) < 0) {
            Py_XDECREF(k);
            Py_DECREF(v);
            goto fail;
        }
        Py_DECREF(k);
        Py_DECREF(v);
    }
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

/* A fresh table object with its own pool (of exact `type`). */
static PyObject *tbl_alloc_own(PyTypeObject *type)
{
    mp_table *self;
    apr_pool_t *p = NULL;

    self = (mp_table *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    /* An unmanaged pool with its own allocator: no global lock, and it is
     * not a child of APR's global pool, so apr_terminate() can never free
     * memory a Python object still points to. */
    if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) != APR_SUCCESS || p == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    apr_pool_tag(p, "mod_python table");
    self->pool = p;
    self->table = apr_table_make(p, 8);
    self->owner = NULL;
    return (PyObject *)self;
}

/* ------------------------------------------------------------------ */
/* update / construction                                               */
/* ------------------------------------------------------------------ */

/* Entries of another table: its keys replace ours, duplicates are kept. */
static int tbl_merge_table(mp_table *self, mp_table *src)
{
    int i, n;
    const apr_table_entry_t *e;

    if (tbl_check(src) < 0)
        return -1;
    if (src == self || src->table == self->table)
        return 0;               /* two wrappers of one apr_table_t */
    e = tbl_elts(src->table, &n);
    for (i = 0; i < n; i++)
        if (e[i].key != NULL)
            apr_table_unset(self->table, e[i].key);
    e = tbl_elts(src->table, &n);   /* unchanged, but be explicit */
    for (i = 0; i < n; i++)
        if (e[i].key != NULL)
            apr_table_add(self->table, e[i].key, e[i].val);
    return 0;
}

static int tbl_merge_mapping(mp_table *self, PyObject *m)
{
    PyObject *keys, *it, *k, *v;
    int rc = 0;

    keys = PyMapping_Keys(m);
    if (keys == NULL)
        return -1;
    it = PyObject_GetIter(keys);
    Py_DECREF(keys);
    if (it == NULL)
        return -1;
    while (rc == 0 && (k = PyIter_Next(it)) != NULL) {
        v = PyObject_GetItem(m, k);
        if (v == NULL)
            rc = -1;
        else
            rc = tbl_set_py(self, k, v, 1);
        Py_DECREF(k);
        Py_XDECREF(v);
    }
    Py_DECREF(it);
    if (rc == 0 && PyErr_Occurred())
        rc = -1;
    return rc;
}

static int tbl_merge_pairs(mp_table *self, PyObject *seq)
{
    PyObject *it, *item, *fast;
    Py_ssize_t i = 0;
    int rc = 0;

    it = PyObject_GetIter(seq);
    if (it == NULL)
        return -1;
    while (rc == 0 && (item = PyIter_Next(it)) != NULL) {
        fast = PySequence_Fast(item, "");
        Py_DECREF(item);
        if (fast == NULL) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Format(PyExc_TypeError,
                             "cannot convert table update sequence element #%zd "
                             "to a sequence", i);
            }
            rc = -1;
            break;
        }
        if (PySequence_Fast_GET_SIZE(fast) != 2) {
            PyErr_Format(PyExc_ValueError,
                         "table update sequence element #%zd has length %zd; "
                         "2 is required", i, PySequence_Fast_GET_SIZE(fast));
            rc = -1;
        } else {
            rc = tbl_set_py(self, PySequence_Fast_GET_ITEM(fast, 0),
                            PySequence_Fast_GET_ITEM(fast, 1), 1);
        }
        Py_DECREF(fast);
        i++;
    }
    Py_DECREF(it);
    if (rc == 0 && PyErr_Occurred())
        rc = -1;
    return rc;
}

/* A table, a mapping (anything with keys()) or an iterable of pairs.
 * Anything else fails as in mod_python 3.5: update() called keys() on it
 * (AttributeError, update(None) included), the constructor iterated it
 * (TypeError). */
static int tbl_merge(mp_table *self, PyObject *arg, int is_update)
{
    if (mp_table_check(arg))
        return tbl_merge_table(self, (mp_table *)arg);
    if (PyDict_Check(arg) || PyObject_HasAttrString(arg, "keys"))
        return tbl_merge_mapping(self, arg);
    if (is_update && Py_TYPE(arg)->tp_iter == NULL && !PySequence_Check(arg)) {
        PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute 'keys'",
                     Py_TYPE(arg)->tp_name);
        return -1;
    }
    return tbl_merge_pairs(self, arg);
}

static int tbl_update_args(mp_table *self, PyObject *args, PyObject *kw,
                           const char *fname)
{
    PyObject *arg = NULL;

    if (!PyArg_UnpackTuple(args, fname, 0, 1, &arg))
        return -1;
    if (arg != NULL && tbl_merge(self, arg, strcmp(fname, "update") == 0) < 0)
        return -1;
    if (kw != NULL && PyDict_GET_SIZE(kw) > 0 && tbl_merge_mapping(self, kw) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* type slots                                                          */
/* ------------------------------------------------------------------ */

static PyObject *table_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    (void)args;
    (void)kw;
    return tbl_alloc_own(type);
}

static int table_init(PyObject *o, PyObject *args, PyObject *kw)
{
    mp_table *self = (mp_table *)o;

    TBL_CHECK(self, -1);
    return tbl_update_args(self, args, kw, "table");
}

static int table_traverse(PyObject *o, visitproc visit, void *arg)
{
    Py_VISIT(((mp_table *)o)->owner);
    return 0;
}

static int table_clear_refs(PyObject *o)
{
    mp_table *self = (mp_table *)o;

    if (self->owner != NULL) {
        /* a view without its owner must not be used any more */
        self->table = NULL;
        Py_CLEAR(self->owner);
    }
    return 0;
}

static void table_dealloc(PyObject *o)
{
    mp_table *self = (mp_table *)o;

    PyObject_GC_UnTrack(o);
    Py_CLEAR(self->owner);
    self->table = NULL;
    if (self->pool != NULL) {
        apr_pool_destroy(self->pool);
        self->pool = NULL;
    }
    Py_TYPE(o)->tp_free(o);
}

static Py_hash_t table_hash(PyObject *o)
{
    (void)o;
    PyErr_SetString(PyExc_TypeError, "mp_table objects are unhashable");
    return -1;
}

static PyObject *table_repr(PyObject *o)
{
    mp_table *self = (mp_table *)o;
    int i, n;
    const apr_table_entry_t *e;
    PyObject *parts, *k, *v, *s;

    TBL_CHECK(self, NULL);
    e = tbl_elts(self->table, &n);
    if (n == 0)
        return PyUnicode_FromString("{}");
    parts = PyList_New(0);
    if (parts == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        k = mp_str(e[i].key);
        v = k ? mp_str(e[i].val) : NULL;
        s = v ? PyUnicode_FromFormat("%R: %R", k, v) : NULL;
        Py_XDECREF(k);
        Py_XDECREF(v);
        if (s == NULL || PyList_Append(parts, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(parts);
            return NULL;
        }
        Py_DECREF(s);
    }
    return mp_braced_join(parts);
}

static PyObject *table_richcompare(PyObject *a, PyObject *b, int op)
{
    PyObject *da, *db, *res;

    if (!mp_table_check(a) || !(mp_table_check(b) || PyDict_Check(b)))
        Py_RETURN_NOTIMPLEMENTED;
    TBL_CHECK((mp_table *)a, NULL);
    da = tbl_to_dict(((mp_table *)a)->table);
    if (da == NULL)
        return NULL;
    if (mp_table_check(b)) {
        if (tbl_check((mp_table *)b) < 0) {
            Py_DECREF(da);
            return NULL;
        }
        db = tbl_to_dict(((mp_table *)b)->table);
        if (db == NULL) {
            Py_DECREF(da);
            return NULL;
        }
    } else {
        Py_INCREF(b);
        db = b;
    }
    res = PyObject_RichCompare(da, db, op);
    Py_DECREF(da);
    Py_DECREF(db);
    return res;
}

static Py_ssize_t table_length(PyObject *o)
{
    mp_table *self = (mp_table *)o;

    TBL_CHECK(self, -1);
    return apr_table_elts(self->table)->nelts;
}

static PyObject *table_subscript(PyObject *o, PyObject *key)
{
    mp_table *self = (mp_table *)o;
    PyObject *bk, *res;

    TBL_CHECK(self, NULL);
    bk = lookup_key(key);
    if (bk == NULL)
        return NULL;
    res = tbl_collect(self->table, PyBytes_AS_STRING(bk), 0);
    Py_DECREF(bk);
    if (res == NULL && !PyErr_Occurred())
        PyErr_SetObject(PyExc_KeyError, key);
    return res;
}

static int table_ass_subscript(PyObject *o, PyObject *key, PyObject *val)
{
    mp_table *self = (mp_table *)o;
    PyObject *bk;

    TBL_CHECK(self, -1);
    if (val != NULL)
        return tbl_set_py(self, key, val, 0);
    bk = lookup_key(key);
    if (bk == NULL)
        return -1;
    apr_table_unset(self->table, PyBytes_AS_STRING(bk));
    Py_DECREF(bk);
    return 0;
}

/* 1 present, 0 absent, -1 error */
static int table_contains(PyObject *o, PyObject *key)
{
    mp_table *self = (mp_table *)o;
    PyObject *bk;
    int i, n, found = 0;
    const apr_table_entry_t *e;

    TBL_CHECK(self, -1);
    bk = lookup_key(key);
    if (bk == NULL)
        return -1;
    e = tbl_elts(self->table, &n);
    for (i = 0; i < n && !found; i++)
        found = key_eq(e[i].key, PyBytes_AS_STRING(bk));
    Py_DECREF(bk);
    return found;
}

/* ------------------------------------------------------------------ */
/* iterators                                                           */
/* ------------------------------------------------------------------ */

static PyObject *tbl_iter_new(mp_table *self, int kind)
{
    mp_table_iter *it;

    TBL_CHECK(self, NULL);
    it = PyObject_GC_New(mp_table_iter, &MpTableIter_Type);
    if (it == NULL)
        return NULL;
    Py_INCREF(self);
    it->t = self;
    it->pos = 0;
    it->size = apr_table_elts(self->table)->nelts;
    it->kind = kind;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

static PyObject *table_iter(PyObject *o)
{
    return tbl_iter_new((mp_table *)o, MP_ITER_KEYS);
}

static PyObject *titer_next(PyObject *o)
{
    mp_table_iter *it = (mp_table_iter *)o;
    const apr_table_entry_t *e;
    int n;

    if (it->t == NULL)
        return NULL;
    if (tbl_check(it->t) < 0)
        return NULL;
    e = tbl_elts(it->t->table, &n);
    if (n != it->size) {
        it->size = -1;   /* stay broken */
        PyErr_SetString(PyExc_RuntimeError, "table changed size during iteration");
        return NULL;
    }
    if (it->pos >= n) {
        Py_CLEAR(it->t);
        return NULL;
    }
    e += it->pos++;
    switch (it->kind) {
    case MP_ITER_KEYS:
        return mp_str(e->key);
    case MP_ITER_VALUES:
        return mp_str(e->val);
    default:
        return entry_tuple(e);
    }
}

static int titer_traverse(PyObject *o, visitproc visit, void *arg)
{
    Py_VISIT(((mp_table_iter *)o)->t);
    return 0;
}

static int titer_clear(PyObject *o)
{
    Py_CLEAR(((mp_table_iter *)o)->t);
    return 0;
}

static void titer_dealloc(PyObject *o)
{
    PyObject_GC_UnTrack(o);
    Py_CLEAR(((mp_table_iter *)o)->t);
    PyObject_GC_Del(o);
}

static PyObject *titer_length_hint(PyObject *o, PyObject *unused)
{
    mp_table_iter *it = (mp_table_iter *)o;
    (void)unused;
    if (it->t == NULL || it->size < 0 || it->pos >= it->size)
        return PyLong_FromLong(0);
    return PyLong_FromLong(it->size - it->pos);
}

static PyMethodDef titer_methods[] = {
    {"__length_hint__", titer_length_hint, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}
};

static PyTypeObject MpTableIter_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mp_table_iterator",
    .tp_basicsize = sizeof(mp_table_iter),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = titer_dealloc,
    .tp_traverse = titer_traverse,
    .tp_clear = titer_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = titer_next,
    .tp_methods = titer_methods,
};

/* ------------------------------------------------------------------ */
/* methods                                                             */
/* ------------------------------------------------------------------ */

static PyObject *tbl_list(mp_table *self, int kind)
{
    int i, n;
    const apr_table_entry_t *e;
    PyObject *list, *x;

    TBL_CHECK(self, NULL);
    e = tbl_elts(self->table, &n);
    list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        x = kind == MP_ITER_KEYS ? mp_str(e[i].key)
          : kind == MP_ITER_VALUES ? mp_str(e[i].val) : entry_tuple(&e[i]);
        if (x == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, x);
    }
    return list;
}

static PyObject *tm_keys(PyObject *o, PyObject *u) { (void)u; return tbl_list((mp_table *)o, MP_ITER_KEYS); }
static PyObject *tm_values(PyObject *o, PyObject *u) { (void)u; return tbl_list((mp_table *)o, MP_ITER_VALUES); }
static PyObject *tm_items(PyObject *o, PyObject *u) { (void)u; return tbl_list((mp_table *)o, MP_ITER_ITEMS); }
static PyObject *tm_iterkeys(PyObject *o, PyObject *u) { (void)u; return tbl_iter_new((mp_table *)o, MP_ITER_KEYS); }
static PyObject *tm_itervalues(PyObject *o, PyObject *u) { (void)u; return tbl_iter_new((mp_table *)o, MP_ITER_VALUES); }
static PyObject *tm_iteritems(PyObject *o, PyObject *u) { (void)u; return tbl_iter_new((mp_table *)o, MP_ITER_ITEMS); }

/* First value of key, or NULL without exception if absent. */
static PyObject *tbl_first(mp_table *self, PyObject *key, int *err)
{
    PyObject *bk;
    int i, n;
    const apr_table_entry_t *e;

    *err = 0;
    bk = lookup_key(key);
    if (bk == NULL) {
        *err = 1;
        return NULL;
    }
    e = tbl_elts(self->table, &n);
    for (i = 0; i < n; i++) {
        if (key_eq(e[i].key, PyBytes_AS_STRING(bk))) {
            Py_DECREF(bk);
            PyObject *v = mp_str(e[i].val);
            if (v == NULL)
                *err = 1;
            return v;
        }
    }
    Py_DECREF(bk);
    return NULL;
}

static PyObject *tm_get(PyObject *o, PyObject *args)
{
    mp_table *self = (mp_table *)o;
    PyObject *key, *dflt = Py_None, *v;
    int err;

    if (!PyArg_ParseTuple(args, "O|O:get", &key, &dflt))
        return NULL;
    TBL_CHECK(self, NULL);
    v = tbl_first(self, key, &err);
    if (v == NULL && !err) {
        Py_INCREF(dflt);
        v = dflt;
    }
    return v;
}

static PyObject *tm_setdefault(PyObject *o, PyObject *args)
{
    mp_table *self = (mp_table *)o;
    PyObject *key, *dflt = NULL, *v;
    int err;

    if (!PyArg_ParseTuple(args, "O|O:setdefault", &key, &dflt))
        return NULL;
    TBL_CHECK(self, NULL);
    v = tbl_first(self, key, &err);
    if (v != NULL || err)
        return v;
    if (dflt == NULL || dflt == Py_None) {
        PyObject *empty = PyUnicode_FromString("");
        if (empty == NULL)
            return NULL;
        if (tbl_set_py(self, key, empty, 0) < 0) {
            Py_DECREF(empty);
            return NULL;
        }
        return empty;
    }
    if (tbl_set_py(self, key, dflt, 0) < 0)
        return NULL;
    Py_INCREF(dflt);
    return dflt;
}

/* pop(k[, d]): remove every entry of k and return what t[k] gave; d (or
 * KeyError) when there is none. */
static PyObject *tm_pop(PyObject *o, PyObject *args)
{
    mp_table *self = (mp_table *)o;
    PyObject *key, *dflt = NULL, *bk, *res = NULL;

    if (!PyArg_ParseTuple(args, "O|O:pop", &key, &dflt))
        return NULL;
    TBL_CHECK(self, NULL);
    bk = lookup_key(key);
    if (bk == NULL)
        return NULL;
    res = tbl_collect(self->table, PyBytes_AS_STRING(bk), 0);
    if (res != NULL)
        apr_table_unset(self->table, PyBytes_AS_STRING(bk));
    Py_DECREF(bk);
    if (res != NULL || PyErr_Occurred())
        return res;
    if (dflt == NULL) {
        PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    Py_INCREF(dflt);
    return dflt;
}

static PyObject *tm_add(PyObject *o, PyObject *args)
{
    mp_table *self = (mp_table *)o;
    PyObject *key, *val;
    apr_pool_t *p;
    const char *ck, *cv;

    if (!PyArg_ParseTuple(args, "OO:add", &key, &val))
        return NULL;
    TBL_CHECK(self, NULL);
    p = tbl_pool(self->table);
    ck = mp_latin1_from_py(p, key, "table key");
    if (ck == NULL)
        return NULL;
    cv = mp_latin1_from_py(p, val, "table value");
    if (cv == NULL)
        return NULL;
    apr_table_addn(self->table, ck, cv);
    Py_RETURN_NONE;
}

static PyObject *tm_has_key(PyObject *o, PyObject *key)
{
    int r = table_contains(o, key);
    if (r < 0)
        return NULL;
    return PyLong_FromLong(r);
}

static PyObject *tm_update(PyObject *o, PyObject *args, PyObject *kw)
{
    mp_table *self = (mp_table *)o;

    TBL_CHECK(self, NULL);
    if (tbl_update_args(self, args, kw, "update") < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *tm_clear(PyObject *o, PyObject *u)
{
    mp_table *self = (mp_table *)o;
    (void)u;
    TBL_CHECK(self, NULL);
    apr_table_clear(self->table);
    Py_RETURN_NONE;
}

static PyObject *tm_copy(PyObject *o, PyObject *u)
{
    mp_table *self = (mp_table *)o, *res;
    int i, n;
    const apr_table_entry_t *e;
    (void)u;

    TBL_CHECK(self, NULL);
    res = (mp_table *)tbl_alloc_own(&MpTable_Type);
    if (res == NULL)
        return NULL;
    e = tbl_elts(self->table, &n);
    for (i = 0; i < n; i++)
        if (e[i].key != NULL)
            apr_table_add(res->table, e[i].key, e[i].val);
    return (PyObject *)res;
}

/* Remove and return the last entry. */
static PyObject *tm_popitem(PyObject *o, PyObject *u)
{
    mp_table *self = (mp_table *)o;
    int i, n;
    const apr_table_entry_t *e;
    apr_table_entry_t *keep = NULL;
    PyObject *res;
    (void)u;

    TBL_CHECK(self, NULL);
    e = tbl_elts(self->table, &n);
    if (n == 0) {
        PyErr_SetString(PyExc_KeyError, "popitem(): table is empty");
        return NULL;
    }
    res = entry_tuple(&e[n - 1]);
    if (res == NULL)
        return NULL;
    if (n > 1) {
        keep = PyMem_Malloc(sizeof(*keep) * (size_t)(n - 1));
        if (keep == NULL) {
            Py_DECREF(res);
            return PyErr_NoMemory();
        }
        memcpy(keep, e, sizeof(*keep) * (size_t)(n - 1));
    }
    /* apr_table_t cannot drop one entry; rebuild it from the others (the
     * strings stay where they are, only the index is redone). */
    apr_table_clear(self->table);
    for (i = 0; i < n - 1; i++)
        apr_table_addn(self->table, keep[i].key, keep[i].val);
    PyMem_Free(keep);
    return res;
}

static PyMethodDef table_methods[] = {
    {"keys", tm_keys, METH_NOARGS, "List of keys in table order (duplicates included)."},
    {"values", tm_values, METH_NOARGS, "List of values in table order."},
    {"items", tm_items, METH_NOARGS, "List of (key, value) tuples in table order."},
    {"iterkeys", tm_iterkeys, METH_NOARGS, "Iterator over the keys."},
    {"itervalues", tm_itervalues, METH_NOARGS, "Iterator over the values."},
    {"iteritems", tm_iteritems, METH_NOARGS, "Iterator over (key, value) tuples."},
    {"get", tm_get, METH_VARARGS, "get(k, default=None): first value of k."},
    {"setdefault", tm_setdefault, METH_VARARGS, "setdefault(k, d=None)."},
    {"pop", tm_pop, METH_VARARGS,
     "pop(k[, d]): remove k's entries, return its value (d or KeyError if absent)."},
    {"add", tm_add, METH_VARARGS, "add(k, v): append an entry even if k exists."},
    {"has_key", tm_has_key, METH_O, "has_key(k) -> 1 or 0."},
    {"update", (PyCFunction)(void (*)(void))tm_update, METH_VARARGS | METH_KEYWORDS,
     "update(mapping_or_pairs, **kw): set every pair."},
    {"clear", tm_clear, METH_NOARGS, "Remove all entries."},
    {"copy", tm_copy, METH_NOARGS, "A new independent table with the same entries."},
    {"__copy__", tm_copy, METH_NOARGS, "copy.copy() support: same as copy()."},
    {"popitem", tm_popitem, METH_NOARGS, "Remove and return the last (key, value)."},
    {NULL, NULL, 0, NULL}
};

static PyMappingMethods table_as_mapping = {
    .mp_length = table_length,
    .mp_subscript = table_subscript,
    .mp_ass_subscript = table_ass_subscript,
};

static PySequenceMethods table_as_sequence = {
    .sq_contains = table_contains,
};

PyTypeObject MpTable_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mp_table",
    .tp_doc = "table([mapping_or_pairs]): ordered, case-insensitive, multi-valued "
              "string mapping (an APR table).",
    .tp_basicsize = sizeof(mp_table),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = table_new,
    .tp_init = table_init,
    .tp_dealloc = table_dealloc,
    .tp_traverse = table_traverse,
    .tp_clear = table_clear_refs,
    .tp_repr = table_repr,
    .tp_hash = table_hash,
    .tp_richcompare = table_richcompare,
    .tp_iter = table_iter,
    .tp_methods = table_methods,
    .tp_as_mapping = &table_as_mapping,
    .tp_as_sequence = &table_as_sequence,
};

/* ------------------------------------------------------------------ */
/* C API                                                               */
/* ------------------------------------------------------------------ */

int mp_table_type_init(void)
{
    if (PyType_Ready(&MpTableIter_Type) < 0)
        return -1;
    if (PyType_Ready(&MpTable_Type) < 0)
        return -1;
    return 0;
}

PyObject *mp_table_wrap(apr_table_t *t, PyObject *owner)
{
    mp_table *self;

    if (t == NULL)
        Py_RETURN_NONE;
    if (mp_owner_dead(owner))
        return mp_err_dead(Py_TYPE(owner)->tp_name);
    self = (mp_table *)MpTable_Type.tp_alloc(&MpTable_Type, 0);
    if (self == NULL)
        return NULL;
    self->table = t;
    self->pool = NULL;
    Py_XINCREF(owner);
    self->owner = owner;
    return (PyObject *)self;
}

PyObject *mp_table_new(void)
{
    return tbl_alloc_own(&MpTable_Type);
}
