/*
 * finfo.c - the mp_finfo object (req.finfo, apache.stat()): an apr_finfo_t, either
 * a live view of httpd memory (req.finfo, kept valid by `owner`) or an owned
 * copy with its own pool (apache.stat()).
 */
#include "mp_common.h"
#include "mp_finfo.h"
#include "mp_interp.h"

enum {
    FI_FNAME, FI_FILETYPE, FI_VALID, FI_PROTECTION, FI_USER, FI_GROUP,
    FI_INODE, FI_DEVICE, FI_NLINK, FI_SIZE, FI_ATIME, FI_MTIME, FI_CTIME,
    FI_NAME, FI_COUNT
};

typedef struct {
    const char *name;
    apr_int32_t bit;       /* APR_FINFO_* bit that makes it valid; 0 = always */
    int nofile_none;       /* None when filetype == APR_NOFILE */
} finfo_field;

/* Indexed by FI_*: the table drives getters, repr and the sequence view. */
static const finfo_field finfo_fields[FI_COUNT] = {
    [FI_FNAME]      = {"fname", 0, 0},
    [FI_FILETYPE]   = {"filetype", 0, 0},
    [FI_VALID]      = {"valid", 0, 1},
    [FI_PROTECTION] = {"protection", APR_FINFO_PROT, 1},
    [FI_USER]       = {"user", APR_FINFO_USER, 1},
    [FI_GROUP]      = {"group", APR_FINFO_GROUP, 1},
    [FI_INODE]      = {"inode", APR_FINFO_INODE, 1},
    [FI_DEVICE]     = {"device", APR_FINFO_DEV, 1},
    [FI_NLINK]      = {"nlink", APR_FINFO_NLINK, 1},
    [FI_SIZE]       = {"size", APR_FINFO_SIZE, 1},
    [FI_ATIME]      = {"atime", APR_FINFO_ATIME, 1},
    [FI_MTIME]      = {"mtime", APR_FINFO_MTIME, 1},
    [FI_CTIME]      = {"ctime", APR_FINFO_CTIME, 1},
    [FI_NAME]       = {"name", APR_FINFO_NAME, 1},
};

/* The old tuple layout (FINFO_MODE .. FINFO_FILETYPE). */
static const int finfo_seq[] = {
    FI_PROTECTION, FI_INODE, FI_DEVICE, FI_NLINK, FI_USER, FI_GROUP, FI_SIZE,
    FI_ATIME, FI_MTIME, FI_CTIME, FI_FNAME, FI_NAME, FI_FILETYPE
};

/* repr() order */
static const int finfo_repr_order[] = {
    FI_FNAME, FI_FILETYPE, FI_VALID, FI_PROTECTION, FI_USER, FI_GROUP, FI_SIZE,
    FI_INODE, FI_DEVICE, FI_NLINK, FI_ATIME, FI_MTIME, FI_CTIME, FI_NAME
};

static apr_finfo_t *fi_get(mp_finfo *self)
{
    if (mp_owner_dead(self->owner)) {
        mp_err_dead(Py_TYPE(self->owner)->tp_name);
        return NULL;
    }
    if (self->finfo == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "mp_finfo object is no longer valid");
        return NULL;
    }
    return self->finfo;
}

static PyObject *fi_value(const apr_finfo_t *f, int id)
{
    const finfo_field *d = &finfo_fields[id];

    if (d->nofile_none && f->filetype == APR_NOFILE)
        Py_RETURN_NONE;
    if (d->bit != 0 && !(f->valid & d->bit))
        Py_RETURN_NONE;
    switch (id) {
    case FI_FNAME:      return mp_str(f->fname);
    case FI_FILETYPE:   return PyLong_FromLong((long)f->filetype);
    case FI_VALID:      return PyLong_FromLong((long)f->valid);
    case FI_PROTECTION: return PyLong_FromLong((long)f->protection);
    case FI_USER:       return PyLong_FromUnsignedLong((unsigned long)f->user);
    case FI_GROUP:      return PyLong_FromUnsignedLong((unsigned long)f->group);
    case FI_INODE:      return PyLong_FromUnsignedLongLong((unsigned long long)f->inode);
    case FI_DEVICE:     return PyLong_FromUnsignedLongLong((unsigned long long)f->device);
    case FI_NLINK:      return PyLong_FromLong((long)f->nlink);
    case FI_SIZE:       return PyLong_FromLongLong((long long)f->size);
    case FI_ATIME:      return PyLong_FromLongLong((long long)apr_time_sec(f->atime));
    case FI_MTIME:      return PyLong_FromLongLong((long long)apr_time_sec(f->mtime));
    case FI_CTIME:      return PyLong_FromLongLong((long long)apr_time_sec(f->ctime));
    case FI_NAME:       return mp_str(f->name);
    default:            Py_RETURN_NONE;
    }
}

static PyObject *finfo_getter(PyObject *o, void *closure)
{
    apr_finfo_t *f = fi_get((mp_finfo *)o);

    if (f == NULL)
        return NULL;
    return fi_value(f, (int)(intptr_t)closure);
}

#define FI_GETSET(id, nm, dc) \
    {.name = nm, .get = finfo_getter, .set = NULL, .doc = dc, \
     .closure = (void *)(intptr_t)(id)}

static PyGetSetDef finfo_getset[] = {
    FI_GETSET(FI_FNAME, "fname", "file name"),
    FI_GETSET(FI_FILETYPE, "filetype", "APR_REG, APR_DIR, ... (APR_NOFILE: no file)"),
    FI_GETSET(FI_VALID, "valid", "mask of the APR_FINFO_* fields filled in"),
    FI_GETSET(FI_PROTECTION, "protection", "permission bits"),
    FI_GETSET(FI_USER, "user", "owner's user id"),
    FI_GETSET(FI_GROUP, "group", "group id"),
    FI_GETSET(FI_INODE, "inode", "inode number"),
    FI_GETSET(FI_DEVICE, "device", "device number"),
    FI_GETSET(FI_NLINK, "nlink", "number of hard links"),
    FI_GETSET(FI_SIZE, "size", "size in bytes"),
    FI_GETSET(FI_ATIME, "atime", "last access, seconds since the epoch"),
    FI_GETSET(FI_MTIME, "mtime", "last modification, seconds since the epoch"),
    FI_GETSET(FI_CTIME, "ctime", "last status change, seconds since the epoch"),
    FI_GETSET(FI_NAME, "name", "base name as stored on disk"),
    {NULL, NULL, NULL, NULL, NULL}
};

static PyObject *finfo_item(PyObject *o, Py_ssize_t i)
{
    apr_finfo_t *f = fi_get((mp_finfo *)o);

    if (f == NULL)
        return NULL;
    if (i < 0 || i >= (Py_ssize_t)(sizeof(finfo_seq) / sizeof(finfo_seq[0]))) {
        PyErr_SetString(PyExc_IndexError, "mp_finfo index out of range");
        return NULL;
    }
    return fi_value(f, finfo_seq[i]);
}

static PyObject *finfo_repr(PyObject *o)
{
    apr_finfo_t *f = fi_get((mp_finfo *)o);
    PyObject *parts, *v, *s;
    size_t i;

    if (f == NULL)
        return NULL;
    parts = PyList_New(0);
    if (parts == NULL)
        return NULL;
    for (i = 0; i < sizeof(finfo_repr_order) / sizeof(finfo_repr_order[0]); i++) {
        int id = finfo_repr_order[i];
        v = fi_value(f, id);
        s = v ? PyUnicode_FromFormat("'%s': %R", finfo_fields[id].name, v) : NULL;
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

static PyObject *finfo_getattro(PyObject *o, PyObject *name)
{
    PyObject *res = PyObject_GenericGetAttr(o, name);

    if (res == NULL && PyErr_ExceptionMatches(PyExc_AttributeError) &&
        PyUnicode_Check(name)) {
        PyErr_Clear();
        PyErr_Format(PyExc_AttributeError, "class 'mp_finfo' has no attribute '%U'", name);
    }
    return res;
}

static int finfo_traverse(PyObject *o, visitproc visit, void *arg)
{
    Py_VISIT(((mp_finfo *)o)->owner);
    return 0;
}

static int finfo_clear(PyObject *o)
{
    mp_finfo *self = (mp_finfo *)o;

    if (self->owner != NULL) {
        self->finfo = NULL;       /* the view's memory belongs to the owner */
        Py_CLEAR(self->owner);
    }
    return 0;
}

static void finfo_dealloc(PyObject *o)
{
    mp_finfo *self = (mp_finfo *)o;

    PyObject_GC_UnTrack(o);
    Py_CLEAR(self->owner);
    self->finfo = NULL;
    if (self->pool != NULL) {
        apr_pool_destroy(self->pool);
        self->pool = NULL;
    }
    PyObject_GC_Del(o);
}

static PySequenceMethods finfo_as_sequence = {
    .sq_item = finfo_item,
};

PyTypeObject MpFinfo_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mp_finfo",
    .tp_doc = "File information (apr_finfo_t).",
    .tp_basicsize = sizeof(mp_finfo),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = finfo_dealloc,
    .tp_traverse = finfo_traverse,
    .tp_clear = finfo_clear,
    .tp_repr = finfo_repr,
    .tp_getattro = finfo_getattro,
    .tp_as_sequence = &finfo_as_sequence,
    .tp_getset = finfo_getset,
};

/* ------------------------------------------------------------------ */
/* C API                                                               */
/* ------------------------------------------------------------------ */

int mp_finfo_type_init(void)
{
    return PyType_Ready(&MpFinfo_Type);
}

static mp_finfo *finfo_alloc(void)
{
    mp_finfo *self = PyObject_GC_New(mp_finfo, &MpFinfo_Type);

    if (self == NULL)
        return NULL;
    memset(&self->own, 0, sizeof(self->own));
    self->finfo = NULL;
    self->pool = NULL;
    self->owner = NULL;
    PyObject_GC_Track(self);
    return self;
}

PyObject *mp_finfo_wrap(apr_finfo_t *f, PyObject *owner)
{
    mp_finfo *self;

    if (f == NULL)
        Py_RETURN_NONE;
    if (mp_owner_dead(owner))
        return mp_err_dead(Py_TYPE(owner)->tp_name);
    self = finfo_alloc();
    if (self == NULL)
        return NULL;
    self->finfo = f;
    Py_XINCREF(owner);
    self->owner = owner;
    return (PyObject *)self;
}

PyObject *mp_finfo_stat(const char *fname, apr_int32_t wanted)
{
    mp_finfo *self;
    apr_pool_t *p = NULL;
    apr_status_t st;
    const char *f;
    PyObject *err;

    if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) != APR_SUCCESS || p == NULL)
        return PyErr_NoMemory();
    apr_pool_tag(p, "mod_python finfo");
    self = finfo_alloc();
    if (self == NULL) {
        apr_pool_destroy(p);
        return NULL;
    }
    self->pool = p;
    self->finfo = &self->own;
    f = apr_pstrdup(p, fname);

    /* the pool belongs to this new object only: safe without the GIL */
    MP_BEGIN_BLOCKING
    st = apr_stat(&self->own, f, wanted, p);
    MP_END_BLOCKING

    if (st == APR_SUCCESS || APR_STATUS_IS_INCOMPLETE(st))
        return (PyObject *)self;
    if (APR_STATUS_IS_ENOENT(st)) {
        memset(&self->own, 0, sizeof(self->own));
        self->own.filetype = APR_NOFILE;
        self->own.fname = f;
        self->own.pool = p;
        return (PyObject *)self;
    }
    Py_DECREF(self);
    err = Py_BuildValue("(is)", (int)st, "apr_stat() failed");
    if (err != NULL) {
        PyErr_SetObject(PyExc_OSError, err);
        Py_DECREF(err);
    }
    return NULL;
}

apr_finfo_t *mp_finfo_ptr(PyObject *o)
{
    apr_finfo_t *f;

    if (o == NULL || !mp_finfo_check(o))
        return NULL;
    f = fi_get((mp_finfo *)o);
    if (f == NULL)
        PyErr_Clear();
    return f;
}
