/*
 * mp_venv.h - PythonVirtualEnv: a virtual environment read and checked at
 * configuration time (pyvenv.cfg), whose site-packages the interpreters of
 * a server (or virtual host) put on sys.path when they start (interp.c).
 */
#ifndef MP_VENV_H
#define MP_VENV_H

#include "mp_common.h"

typedef struct mp_venv {
    const char *path;          /* the environment's directory, absolute */
    const char *site;          /* its lib/pythonX.Y/site-packages */
    const char *version;       /* "version" of pyvenv.cfg ("3.11.2"), or "" */
    int include_system;        /* include-system-site-packages = true */
} mp_venv;

/* PythonVirtualEnv PATH (server config, virtual host): the directive
 * handler; an error names the directive, the path and, for a version
 * mismatch, both versions. */
const char *mp_cmd_virtualenv(cmd_parms *cmd, void *mconfig, const char *arg);

/* Read and check the environment at path (relative: to ServerRoot); NULL
 * and *err set when it is not a usable environment for this build. */
const mp_venv *mp_venv_read(apr_pool_t *p, const char *path, const char **err);

#endif /* MP_VENV_H */
