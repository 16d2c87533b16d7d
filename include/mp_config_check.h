/*
 * mp_config_check.h - checks of directive values made while the
 * configuration is read (so `apachectl -t` reports them), without Python.
 * Each returns NULL when the value is fine, else httpd's error message
 * (allocated in p) naming the directive and the value.
 */
#ifndef MP_CONFIG_CHECK_H
#define MP_CONFIG_CHECK_H

#include "mp_common.h"

/* PythonPath: a syntax check of the Python expression (balanced and
 * matching brackets, ended strings, not empty, not ending in an operator,
 * not an assignment or several statements). */
const char *mp_check_python_path(apr_pool_t *p, const char *expr);

/* One handler word "module[::object]" of `directive`: neither name empty,
 * "::" once, no empty part in a dotted object name. */
const char *mp_check_handler(apr_pool_t *p, const char *directive, const char *handler);

/* PythonOption key value: the values mod_python's own keys accept
 * (mod_python.autoreload.*, mutex_locks, util limits, file_session
 * numbers and booleans, session.session_type, cleanup_chance, the
 * store timeouts and memcached_max_item_size, wsgi.application); other
 * keys and empty values are not checked. */
const char *mp_check_option(apr_pool_t *p, const char *key, const char *val);

/* PythonOption key: NULL unless it is under "mod_python." and none of the
 * keys mod_python reads (a misspelling, or a key of another version); then
 * a warning naming the key and the nearest known key, if one is close. */
const char *mp_check_option_key(apr_pool_t *p, const char *key);

#endif /* MP_CONFIG_CHECK_H */
