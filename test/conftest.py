"""pytest configuration: make harness importable, the `httpd` server factory
(MPM-parametrised per module with the `mpms` marker), stop every httpd at
the end.  See harness.py's docstring for how a test module uses them."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "mpms(*names): run the module's tests once per MPM named, each time "
        "with its own `httpd` servers (default: event only)")


def pytest_report_header(config):
    return ["httpd: %s" % harness.HTTPD,
            "mod_python.so: %s (%s)" % (harness.MP_MODULE,
                                       "present" if os.path.exists(harness.MP_MODULE)
                                       else "MISSING")]


def pytest_sessionfinish(session, exitstatus):
    harness._stop_all()


def pytest_generate_tests(metafunc):
    """The module's `mpms` marker parametrises the module-scoped `mpm`
    fixture, unless the test parametrises `mpm` itself."""
    marker = metafunc.definition.get_closest_marker("mpms")
    if marker is None or "mpm" not in metafunc.fixturenames:
        return
    for m in metafunc.definition.iter_markers("parametrize"):
        names = m.args[0]
        if "mpm" in (names.replace(" ", "").split(",") if isinstance(names, str) else names):
            return
    metafunc.parametrize("mpm", marker.args, indirect=True, scope="module")


@pytest.fixture(scope="session")
def mp_module():
    """Path of the mod_python.so under test; fails clearly when it was not built."""
    if not os.path.exists(harness.MP_MODULE):
        pytest.fail("mod_python.so not built: %s (run make)" % harness.MP_MODULE)
    return harness.MP_MODULE


@pytest.fixture(scope="module")
def mpm(request):
    """The MPM of this module's servers (the `mpms` marker; default event)."""
    return getattr(request, "param", "event")


@pytest.fixture(scope="module")
def httpd(mpm):
    """Factory of the module's servers:

        httpd(config, files=None, name="srv", cls=Httpd, start=True,
              check_crash=True, **Httpd keyword arguments) -> Httpd

    makes a server under the module's MPM (named "<name>-<mpm>";
    `mpm_config` may be a dict keyed by MPM, e.g. harness.SINGLE_CHILD) and
    starts it unless start=False.  When the module's tests are done every
    server it made is stopped, then checked for crash lines in its error log
    (check_crash=False for a server whose test crashes children on purpose)."""
    made = []

    def make(config, files=None, name="srv", cls=harness.Httpd, start=True,
             check_crash=True, **kw):
        if kw.get("load_python", True) and not os.path.exists(harness.MP_MODULE):
            pytest.fail("mod_python.so not built: %s (run make)" % harness.MP_MODULE)
        if isinstance(kw.get("mpm_config"), dict):
            kw["mpm_config"] = kw["mpm_config"][mpm]
        s = cls(config, files=files, mpm=mpm, name="%s-%s" % (name, mpm), **kw)
        made.append((s, check_crash))
        if start:
            s.start()
        return s

    yield make
    crashed = []
    for s, check in reversed(made):
        s.stop()
        if check and s.crash_lines():
            crashed.append("%s:\n%s" % (s.name, "\n".join(s.crash_lines()[:50])))
    assert not crashed, "crash markers in error_log of " + "\n".join(crashed)
