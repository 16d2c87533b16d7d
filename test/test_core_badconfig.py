"""Core: bad directive values and contexts are rejected by `apache2 -t` with a
message naming the directive (mod_python 3.5 manual: "Apache Configuration
Directives")."""
import pytest

from harness import Httpd


def configtest(config):
    s = Httpd(config, name="badconf")
    return s.configtest()


def test_valid_config_passes(mp_module):
    rc, out = configtest(r'''
PythonDebug On
PythonAutoReload Off
PythonInterpPerDirectory Off
PythonInterpPerDirective Off
PythonEnablePdb Off
PythonOptimize Off
PythonPath "sys.path+['/tmp']"
PythonOption a b
PythonOption c
PythonImport os main_interpreter
PythonInterpreter x
PythonPostReadRequestHandler m::f
PythonTransHandler m n::o
PythonHandler m | .py .txt
PythonHandlerModule m
PythonInputFilter m::f F1
PythonOutputFilter m::g
<Directory /tmp>
    PythonHandler a b::c d::E.f
    PythonFixupHandler x | .y
</Directory>
''')
    assert rc == 0, out
    assert "Syntax OK" in out


@pytest.mark.parametrize("config,needle", [
    ("PythonDebug maybe", "PythonDebug"),
    ("PythonAutoReload 2", "PythonAutoReload"),
    ("PythonInterpPerDirectory yes-please", "PythonInterpPerDirectory"),
    ("PythonOptimize maybe", "PythonOptimize"),
    ("PythonHandler | .py", "PythonHandler"),
    ("PythonImport onlyonearg", "PythonImport"),
    ("PythonImport a b c", "PythonImport"),
    ("PythonInterpreter", "PythonInterpreter"),
    ("PythonInterpreter a b", "PythonInterpreter"),
    ("PythonPath", "PythonPath"),
    ("PythonOption", "PythonOption"),
    ("PythonOption a b c", "PythonOption"),
    ("PythonInputFilter", "PythonInputFilter"),
    ("PythonOutputFilter a b c", "PythonOutputFilter"),
    ("PythonTransHandler x | .py", 'PythonTransHandler does not accept "| .ext" syntax'),
    ("PythonPostReadRequestHandler x | .py",
     'PythonPostReadRequestHandler does not accept "| .ext" syntax'),
    ("<Directory /tmp>\nPythonTransHandler x\n</Directory>", "PythonTransHandler"),
    ("<Directory /tmp>\nPythonPostReadRequestHandler x\n</Directory>",
     "PythonPostReadRequestHandler"),
    ("<Directory /tmp>\nPythonImport x y\n</Directory>", "PythonImport"),
    ("<Location /x>\nPythonConnectionHandler x\n</Location>", "PythonConnectionHandler"),
    ("<Directory /tmp>\nPythonOptimize On\n</Directory>", "PythonOptimize"),
])
def test_bad_directive_rejected(mp_module, config, needle):
    rc, out = configtest(config)
    assert rc != 0, out
    assert needle in out, out


@pytest.mark.parametrize("config", [
    "<Directory /tmp>\nPythonTransHandler x\n</Directory>",
    "<Directory /tmp>\nPythonImport x y\n</Directory>",
])
def test_wrong_context_says_not_allowed(mp_module, config):
    rc, out = configtest(config)
    assert rc != 0
    assert "not allowed" in out, out


# ---- mistakes caught at `apachectl -t` (issue: config errors a person can act on)

@pytest.mark.parametrize("config,message", [
    # PythonPath: a C syntax check of the expression (Python is not started)
    ('PythonPath "sys.path + ["',
     '''MP0010: PythonPath "sys.path + [": '[' is never closed'''),
    ("""PythonPath "['/a', '/b')" """,
     '''MP0010: PythonPath "['/a', '/b')": ')' does not match '[\''''),
    ('PythonPath "sys.path + [])"',
     '''MP0010: PythonPath "sys.path + [])": ')' closes nothing'''),
    ("""PythonPath "sys.path + ['/a]" """,
     '''MP0010: PythonPath "sys.path + ['/a]": the string '/a] is never closed'''),
    ('PythonPath "sys.path +"',
     '''MP0010: PythonPath "sys.path +": the expression ends with '+\''''),
    ("""PythonPath "sys.path = ['/a']" """,
     '''MP0010: PythonPath "sys.path = ['/a']": an assignment is not an expression'''),
    ("""PythonPath "import os; os.getcwd()" """,
     '''MP0010: PythonPath "import os; os.getcwd()": ';' separates statements'''),
    ('PythonPath "  # nothing"',
     '''MP0010: PythonPath "  # nothing": empty expression'''),
    # handler words: both names of module::object
    ("PythonHandler myapp::",
     'MP0012: PythonHandler "myapp::": the object name after "::" is empty '
     '(write "myapp" for the default object, or name one)'),
    ("<Directory /tmp>\nPythonFixupHandler a b::\n</Directory>",
     'MP0012: PythonFixupHandler "b::": the object name after "::" is empty'),
    ("PythonHandlerModule ::handler",
     'MP0011: PythonHandlerModule "::handler": the module name before "::" is empty'),
    ("PythonConnectionHandler m::",
     'MP0012: PythonConnectionHandler "m::": the object name after "::" is empty'),
    ("PythonHandler m::a::b", 'MP0013: PythonHandler "m::a::b": "::" may appear only once'),
    ("PythonHandler m::Cls..meth",
     '''MP0013: PythonHandler "m::Cls..meth": the object name 'Cls..meth' has an empty part'''),
    ("PythonOutputFilter m:: OUTF",
     'MP0012: PythonOutputFilter "m::": the object name after "::" is empty'),
    ("PythonImport m:: main_interpreter",
     'MP0012: PythonImport "m::": the object name after "::" is empty'),
    # mod_python's own PythonOption keys
    ("PythonOption mod_python.autoreload.mechanism bogus",
     'MP0014: PythonOption mod_python.autoreload.mechanism "bogus": '
     'not one of auto, inotify, stat'),
    ("PythonOption mod_python.autoreload.interval soon",
     'MP0014: PythonOption mod_python.autoreload.interval "soon": '
     'not a number of seconds (0 or more)'),
    ("PythonOption mod_python.autoreload.interval -2",
     'MP0014: PythonOption mod_python.autoreload.interval "-2": '
     'not a number of seconds (0 or more)'),
    ("PythonOption mod_python.mutex_locks many",
     'MP0014: PythonOption mod_python.mutex_locks "many": '
     'not a whole number from 0 to 65536'),
    ("<Directory /tmp>\nPythonOption mod_python.util.max_fields -1\n</Directory>",
     'MP0014: PythonOption mod_python.util.max_fields "-1": '
     'not a whole number from 0 to 2147483647'),
    ("PythonOption mod_python.util.max_memory_size 16M",
     'MP0014: PythonOption mod_python.util.max_memory_size "16M": not a whole number'),
    ("PythonOption mod_python.util.max_files 1.5",
     'MP0014: PythonOption mod_python.util.max_files "1.5": not a whole number'),
    ("PythonOption mod_python.file_session.enable_fast_cleanup maybe",
     'MP0014: PythonOption mod_python.file_session.enable_fast_cleanup "maybe": '
     'not a boolean (yes/no, true/false, on/off, 1/0)'),
    ("PythonOption mod_python.file_session.verify_session_timeout 2",
     'MP0014: PythonOption mod_python.file_session.verify_session_timeout "2": '
     'not a boolean'),
    ("PythonOption mod_python.file_session.cleanup_grace_period 10s",
     'MP0014: PythonOption mod_python.file_session.cleanup_grace_period "10s": '
     'not a whole number'),
    ("PythonOption mod_python.file_session.cleanup_time_limit x",
     'MP0014: PythonOption mod_python.file_session.cleanup_time_limit "x": '
     'not a whole number'),
    ("PythonOption mod_python.session.session_type filesession",
     'MP0014: PythonOption mod_python.session.session_type "filesession": '
     'not one of FileSession, DbmSession, MemorySession, RedisSession, MemcachedSession'),
    ("PythonOption mod_python.session.cleanup_chance sometimes",
     'MP0014: PythonOption mod_python.session.cleanup_chance "sometimes": '
     'not a whole number'),
    ("PythonOption mod_python.session.lock_timeout 0",
     'MP0014: PythonOption mod_python.session.lock_timeout "0": '
     'not a number of seconds above 0'),
    ("PythonOption mod_python.session.store_timeout 2s",
     'MP0014: PythonOption mod_python.session.store_timeout "2s": '
     'not a number of seconds above 0'),
    ("PythonOption mod_python.session.store_timeout 0x10",
     'MP0014: PythonOption mod_python.session.store_timeout "0x10": '
     'not a number of seconds above 0'),
    ("PythonOption mod_python.session.memcached_max_item_size 512",
     'MP0014: PythonOption mod_python.session.memcached_max_item_size "512": '
     'not a size in bytes (digits only, at least 1024)'),
    ("PythonOption mod_python.session.memcached_max_item_size 1m",
     'MP0014: PythonOption mod_python.session.memcached_max_item_size "1m": '
     'not a size in bytes'),
    ("PythonOption mod_python.wsgi.application ::app",
     'MP0014: PythonOption mod_python.wsgi.application "::app": the module name is empty'),
])
def test_mistake_rejected_at_configtest(mp_module, config, message):
    rc, out = configtest(config)
    assert rc != 0, out
    assert "Syntax error on line" in out, out
    assert message in out, out


def test_values_mod_python_accepts_pass_configtest(mp_module):
    rc, out = configtest(r"""
PythonPath "sys.path + ['/srv/a', \"/srv/b\"] + [p for p in ('/x',) if p]  # comment"
PythonPath "dict(a=1) and sys.path or [r'/dir', '''x''', f'{1}']"
PythonPath "[d for d in sys.path if d != '/x=y;z[']"
PythonHandler a a.b a::b a::B.c mod_python.publisher
PythonImport m::init main_interpreter
PythonOutputFilter m::f OUTF
PythonOption mod_python.autoreload.mechanism STAT
PythonOption mod_python.autoreload.interval 0.25
PythonOption mod_python.mutex_locks 0
PythonOption mod_python.util.max_fields " 1000 "
PythonOption mod_python.util.max_memory_size +16777216
PythonOption mod_python.file_session.enable_fast_cleanup Yes
PythonOption mod_python.file_session.verify_session_timeout 0
PythonOption mod_python.file_session.cleanup_grace_period 0
PythonOption mod_python.session.session_type DbmSession
PythonOption mod_python.wsgi.application "myapp::"
PythonOption mod_python.autoreload.interval
PythonOption mod_python.session.cookie_name anything-goes
PythonOption mod_python.session.lock_timeout 2.5
PythonOption mod_python.session.store_timeout " 1e1 "
PythonOption mod_python.session.lock_timeout 1_0
PythonOption mod_python.session.memcached_max_item_size 1048576
PythonOption myapp.setting "sys.path + ["
""")
    assert rc == 0, out
    assert "Syntax OK" in out
    assert "MP0015" not in out, out


UNKNOWN_KEYS = """
PythonOption mod_python.autorelaod.mechanism stat
<Directory /tmp>
  PythonOption mod_python.legacy.importer *
  PythonOption MOD_PYTHON.Session.Cookie_Name known-in-any-case
  PythonOption myapp.autorelaod mine
</Directory>
"""


def _mp0015(text):
    return [line for line in text.splitlines() if "MP0015" in line]


def test_unknown_mod_python_key_warns_once(mp_module):
    """A key under mod_python. that nothing reads (a misspelling, or a key
    of another version) is reported by apachectl -t and at start, once
    each, naming the key, the nearest known key and the line; it is only a
    warning, as mod_python 3.5 ignored such keys."""
    rc, out = configtest(UNKNOWN_KEYS)
    assert rc == 0 and "Syntax OK" in out, out
    found = _mp0015(out)
    assert len(found) == 2, out
    assert ("PythonOption mod_python.autorelaod.mechanism: mod_python reads no such key, "
            "so it has no effect; did you mean mod_python.autoreload.mechanism?") in found[0]
    assert "httpd.conf, line" in found[0]
    assert "mod_python.legacy.importer: mod_python reads no such key" in found[1]
    assert "did you mean" not in found[1]

    s = Httpd(UNKNOWN_KEYS, name="unknownkey")
    s.start()
    try:
        assert len(_mp0015(s.start_output)) == 2, s.start_output   # not twice per key
        assert _mp0015(s.error_log()) == []
        s.graceful()                                # a restart reads the files again
        assert len(_mp0015(s.error_log())) == 2, s.error_log()[-3000:]
        s.assert_no_crash()
    finally:
        s.stop()
