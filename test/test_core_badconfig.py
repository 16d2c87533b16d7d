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
