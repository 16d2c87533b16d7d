/* The one place the C module's version lives; lib/python/mod_python/version.py
 * must hold the same string (checked at interpreter start and by the tests). */
#ifndef MP_VERSION_H
#define MP_VERSION_H
#define MP_VERSION_STRING "3.6.0"
#endif
