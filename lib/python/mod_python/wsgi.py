"""mod_python.wsgi: run a PEP 3333 (WSGI) application as a mod_python handler.

    PythonHandler mod_python.wsgi
    PythonOption mod_python.wsgi.application module[::callable]
    PythonOption mod_python.wsgi.base_uri /prefix        (optional)

The module is imported with apache.import_module(), so it must be on
sys.path (the handler directory or PythonPath) and is reloaded when it
changes if PythonAutoReload is on.  `callable` defaults to "application".

SCRIPT_NAME is the base URI: the mod_python.wsgi.base_uri option, else the
<Location> the handler is configured in, else empty; PATH_INFO is the rest
of the URI (see req.build_wsgi_env()).  environ["mod_python.request"] is the
request object (mod_python 3.5 passed it as wsgi.input).
"""

from wsgiref.util import FileWrapper

from mod_python import apache

APP_OPTION = "mod_python.wsgi.application"
BASE_OPTION = "mod_python.wsgi.base_uri"


def _find_callable(module, name):
    obj = module
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def handler(req):
    options = req.get_options()
    spec = options.get(APP_OPTION)
    if not spec:
        # 3.5 raised KeyError here; its documentation meant to decline.
        # Declining would let httpd serve the files of this location
        # itself (often the application's source), so this is a 500.
        req.log_error("MP0360: WSGI handler: PythonOption %s is not set (expected "
                      "'module[::callable]'), answering 500." % APP_OPTION,
                      apache.APLOG_ERR)
        return apache.HTTP_INTERNAL_SERVER_ERROR

    module_name, sep, name = spec.partition("::")
    module_name = module_name.strip()
    name = name.strip() if sep else ""
    name = name or "application"

    config = req.get_config()
    module = apache.import_module(module_name,
                                  autoreload=config.get("PythonAutoReload", "1") != "0",
                                  log=config.get("PythonDebug", "0") == "1")
    app = _find_callable(module, name)
    if app is None:
        req.log_error("MP0361: WSGI handler: %s (%s) not found, declining."
                      % (APP_OPTION, spec), apache.APLOG_WARNING)
        return apache.DECLINED

    env = req.build_wsgi_env()
    if env is None:
        req.log_error("MP0362: WSGI handler: req.uri (%s) does not start with %s (%s), "
                      "declining." % (req.uri, BASE_OPTION, options.get(BASE_OPTION)),
                      apache.APLOG_WARNING)
        return apache.DECLINED

    env.setdefault("wsgi.file_wrapper", FileWrapper)
    # 3.5 put the request object in wsgi.input; now a stream is there (PEP
    # 3333) and an application that used the request finds it here
    env.setdefault("mod_python.request", req)
    response = app(env, req.wsgi_start_response)
    try:
        write = req.write
        for chunk in response:
            if chunk:
                write(chunk)
    finally:
        if not isinstance(response, (list, tuple)):
            close = getattr(response, "close", None)
            if close is not None:
                close()
    return apache.OK
