/*
 * hlist.c - the mp_hlist object (req.hlist): a cursor over a
 * handler list (mp_handler entries).
 *
 * The list memory lives in an APR pool (normally the request's or the
 * connection's).  A pool cleanup forgets the list when that pool goes, so
 * an hlist kept beyond its request reads as "at the end" (all None)
 * instead of touching freed memory.  The cleanup is killed in dealloc.
 */
#include "mp_common.h"
#include "mp_hlist.h"
#include "mp_util.h"

static apr_status_t hlist_pool_gone(void *data)
{
    mp_hlist *self = (mp_hlist *)data;

    /* Runs without the GIL; only plain C fields are touched. */
    self->head = NULL;
    self->cur = NULL;
    self->pool = NULL;
    return APR_SUCCESS;
}

static void hlist_dealloc(PyObject *o)
{
    mp_hlist *self = (mp_hlist *)o;

    if (self->pool != NULL)
        apr_pool_cleanup_kill(self->pool, self, hlist_pool_gone);
    self->pool = NULL;
    self->head = self->cur = NULL;
    Py_TYPE(o)->tp_free(o);
}

/* ------------------------------------------------------------------ */
/* attributes                                                          */
/* ------------------------------------------------------------------ */

enum { HL_HANDLER, HL_DIRECTORY, HL_IS_LOCATION, HL_SILENT };

static PyObject *hlist_get(PyObject *o, void *closure)
{
    const mp_handler *h = ((mp_hlist *)o)->cur;

    if (h == NULL)
        Py_RETURN_NONE;
    switch ((int)(intptr_t)closure) {
    case HL_HANDLER:
        return mp_str(h->handler);
    case HL_DIRECTORY:
        return mp_str(h->directory);
    case HL_IS_LOCATION:
        return PyLong_FromLong(h->is_location);
    case HL_SILENT:
        return PyLong_FromLong(h->silent);
    default:
        Py_RETURN_NONE;
    }
}

static PyGetSetDef hlist_getset[] = {
    {"handler", hlist_get, NULL, "handler string 'module[::object]'", (void *)HL_HANDLER},
    {"directory", hlist_get, NULL, "directory the handler was configured for",
     (void *)HL_DIRECTORY},
    {"is_location", hlist_get, NULL, "configured in a <Location>", (void *)HL_IS_LOCATION},
    {"silent", hlist_get, NULL, "PythonHandlerModule entry", (void *)HL_SILENT},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyObject *hlist_next(PyObject *o, PyObject *unused)
{
    mp_hlist *self = (mp_hlist *)o;
    (void)unused;

    if (self->cur != NULL)
        self->cur = self->cur->next;
    Py_RETURN_NONE;
}

static PyMethodDef hlist_methods[] = {
    {"next", hlist_next, METH_NOARGS, "Advance to the following handler."},
    {NULL, NULL, 0, NULL}
};

/* {'handler':'mod::obj','directory':'/d/','is_location':False,'silent':0} */
static PyObject *hlist_repr(PyObject *o)
{
    const mp_handler *h = ((mp_hlist *)o)->cur;
    PyObject *hs, *ds = NULL, *res;

    if (h == NULL)
        return PyUnicode_FromString("{'handler':None,'is_location':None,'silent':None}");
    hs = mp_str(h->handler);
    if (hs == NULL)
        return NULL;
    if (h->directory != NULL) {
        ds = mp_str(h->directory);
        if (ds == NULL) {
            Py_DECREF(hs);
            return NULL;
        }
        res = PyUnicode_FromFormat("{'handler':%R,'directory':%R,'is_location':%s,'silent':%d}",
                                   hs, ds, h->is_location ? "True" : "False",
                                   (int)h->silent);
    } else {
        res = PyUnicode_FromFormat("{'handler':%R,'is_location':%s,'silent':%d}",
                                   hs, h->is_location ? "True" : "False", (int)h->silent);
    }
    Py_DECREF(hs);
    Py_XDECREF(ds);
    return res;
}

PyTypeObject MpHList_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mp_hlist",
    .tp_doc = "req.hlist: the handlers of the running phase, at the one running "
              "now (handler, directory, is_location, silent; next()).",
    .tp_basicsize = sizeof(mp_hlist),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = hlist_dealloc,
    .tp_repr = hlist_repr,
    .tp_methods = hlist_methods,
    .tp_getset = hlist_getset,
};

/* ------------------------------------------------------------------ */
/* C API                                                               */
/* ------------------------------------------------------------------ */

int mp_hlist_type_init(void)
{
    return PyType_Ready(&MpHList_Type);
}

PyObject *mp_hlist_new(apr_pool_t *p, mp_handler *head)
{
    mp_hlist *self;

    self = PyObject_New(mp_hlist, &MpHList_Type);
    if (self == NULL)
        return NULL;
    self->head = head;
    self->cur = head;
    self->pool = p;
    self->copied = 0;
    if (p != NULL)
        apr_pool_cleanup_register(p, self, hlist_pool_gone, apr_pool_cleanup_null);
    return (PyObject *)self;
}

mp_handler *mp_hlist_current(PyObject *hl)
{
    if (hl == NULL || !PyObject_TypeCheck(hl, &MpHList_Type))
        return NULL;
    return ((mp_hlist *)hl)->cur;
}

/* Copy the list into the hlist's pool (keeping the cursor position). */
static void hlist_copy_list(mp_hlist *self)
{
    mp_handler *src, *n, **tail = &self->head, *newcur = NULL;

    for (src = self->head; src != NULL; src = src->next) {
        n = apr_pmemdup(self->pool, src, sizeof(*n));
        n->next = NULL;
        if (src == self->cur)
            newcur = n;
        *tail = n;
        tail = &n->next;
    }
    self->cur = newcur;
    self->copied = 1;
}

void mp_hlist_append(PyObject *hl, const mp_handler *h)
{
    mp_hlist *self;
    mp_handler *n, *last;

    if (hl == NULL || h == NULL || !PyObject_TypeCheck(hl, &MpHList_Type))
        return;
    self = (mp_hlist *)hl;
    if (self->pool == NULL)
        return;                 /* the list is gone */
    if (!self->copied)
        hlist_copy_list(self);
    n = apr_pmemdup(self->pool, h, sizeof(*n));
    n->handler = h->handler ? apr_pstrdup(self->pool, h->handler) : NULL;
    n->directory = h->directory ? apr_pstrdup(self->pool, h->directory) : NULL;
    n->next = NULL;

    if (self->head == NULL) {
        self->head = self->cur = n;
        return;
    }
    for (last = self->head; last->next != NULL; last = last->next)
        ;
    last->next = n;
    if (self->cur == NULL)
        self->cur = n;          /* was at the end: the new entry is next */
}
