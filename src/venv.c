/*
 * venv.c - PythonVirtualEnv: reading and checking a virtual environment at
 * configuration time, so that `apachectl -t` already refuses a path that
 * is not a virtual environment or one made for another Python version.
 *
 * A virtual environment is a directory holding pyvenv.cfg (PEP 405) and
 * lib/pythonX.Y/site-packages.  The interpreters that use it get that
 * site-packages on sys.path (interp.c), with its .pth files processed as
 * site.addsitedir() does; the system's site-packages stay only when
 * pyvenv.cfg says include-system-site-packages = true.
 *
 * Licensed under the Apache License, Version 2.0 (see LICENSE).
 */
#include "mp_common.h"
#include "mp_config.h"
#include "mp_venv.h"

#include "apr_lib.h"
#include "apr_file_io.h"
#include "apr_file_info.h"

#define MP_PYVER_STR(a, b) #a "." #b
#define MP_PYVER_XSTR(a, b) MP_PYVER_STR(a, b)
/* "3.11": the Python this module is built for (libpython's soname ties it) */
#define MP_BUILD_PYVER MP_PYVER_XSTR(PY_MAJOR_VERSION, PY_MINOR_VERSION)

static char *mp_trim(char *s)
{
    char *e;

    while (apr_isspace(*s))
        s++;
    e = s + strlen(s);
    while (e > s && apr_isspace(e[-1]))
        *--e = '\0';
    return s;
}

/* "key = value" lines of pyvenv.cfg, keys lower-cased as site.py does. */
static apr_status_t mp_read_pyvenv_cfg(apr_pool_t *p, const char *file, mp_venv *v)
{
    apr_file_t *f;
    char line[1024];
    apr_status_t rv;

    if ((rv = apr_file_open(&f, file, APR_FOPEN_READ, APR_OS_DEFAULT, p)) != APR_SUCCESS)
        return rv;
    while (apr_file_gets(line, sizeof(line), f) == APR_SUCCESS) {
        char *eq = strchr(line, '=');
        char *key, *val;

        if (eq == NULL)
            continue;
        *eq = '\0';
        key = mp_trim(line);
        val = mp_trim(eq + 1);
        ap_str_tolower(key);
        if (strcmp(key, "include-system-site-packages") == 0)
            v->include_system = strcasecmp(val, "true") == 0;
        else if (strcmp(key, "version") == 0 || strcmp(key, "version_info") == 0)
            v->version = apr_pstrdup(p, val);
    }
    apr_file_close(f);
    return APR_SUCCESS;
}

/* 1 when version ("3.11.2", "3.11") is major.minor of this build. */
static int mp_same_python(const char *version)
{
    size_t n = strlen(MP_BUILD_PYVER);

    return strncmp(version, MP_BUILD_PYVER, n) == 0
           && (version[n] == '\0' || version[n] == '.');
}

static int mp_is_dir(apr_pool_t *p, const char *path)
{
    apr_finfo_t fi;

    return apr_stat(&fi, path, APR_FINFO_TYPE, p) == APR_SUCCESS && fi.filetype == APR_DIR;
}

const mp_venv *mp_venv_read(apr_pool_t *p, const char *path, const char **err)
{
    mp_venv *v = apr_pcalloc(p, sizeof(*v));
    char *full = NULL;
    const char *cfg;

    *err = NULL;
    if (path == NULL || *path == '\0') {
        *err = "PythonVirtualEnv requires the path of a virtual environment";
        return NULL;
    }
    path = ap_server_root_relative(p, path);
    if (path == NULL
        || apr_filepath_merge(&full, NULL, path, APR_FILEPATH_TRUENAME, p) != APR_SUCCESS) {
        full = apr_pstrdup(p, path ? path : "");
    }
    v->path = full;
    v->version = "";
    cfg = apr_pstrcat(p, v->path, "/pyvenv.cfg", NULL);
    if (!mp_is_dir(p, v->path) || mp_read_pyvenv_cfg(p, cfg, v) != APR_SUCCESS) {
        *err = apr_psprintf(p, "PythonVirtualEnv %s: not a virtual environment (no "
                            "readable pyvenv.cfg, so no Python version; mod_python runs "
                            "Python %s): make one with %s -m venv %s",
                            v->path, MP_BUILD_PYVER, MP_PYTHON_BIN, v->path);
        return NULL;
    }
    if (*v->version && !mp_same_python(v->version)) {
        *err = apr_psprintf(p, "PythonVirtualEnv %s: the environment is for Python %s "
                            "(pyvenv.cfg), but mod_python runs Python %s; recreate it "
                            "with %s -m venv", v->path, v->version, MP_BUILD_PYVER,
                            MP_PYTHON_BIN);
        return NULL;
    }
    v->site = apr_pstrcat(p, v->path, "/lib/python" MP_BUILD_PYVER "/site-packages", NULL);
    if (!mp_is_dir(p, v->site)) {
        *err = apr_psprintf(p, "PythonVirtualEnv %s: the environment is for Python %s, "
                            "but mod_python runs Python %s (%s does not exist)",
                            v->path, *v->version ? v->version : "(unknown)",
                            MP_BUILD_PYVER, v->site);
        return NULL;
    }
    return v;
}

const char *mp_cmd_virtualenv(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    const mp_venv *v;

    (void)mconfig;
    if (err != NULL)
        return err;
    if ((v = mp_venv_read(cmd->pool, arg, &err)) == NULL)
        return err;
    mp_srv_config(cmd->server)->venv = v;
    apr_table_set(mp_srv_config(cmd->server)->directives, cmd->cmd->name, v->path);
    return NULL;
}
