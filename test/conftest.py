"""pytest configuration: make harness importable, stop every httpd at the end."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


def pytest_report_header(config):
    return ["httpd: %s" % harness.HTTPD,
            "mod_python.so: %s (%s)" % (harness.MP_MODULE,
                                       "present" if os.path.exists(harness.MP_MODULE)
                                       else "MISSING")]


def pytest_sessionfinish(session, exitstatus):
    harness._stop_all()


@pytest.fixture(scope="session")
def mp_module():
    """Path of the mod_python.so under test; fails clearly when it was not built."""
    if not os.path.exists(harness.MP_MODULE):
        pytest.fail("mod_python.so not built: %s (run make)" % harness.MP_MODULE)
    return harness.MP_MODULE
