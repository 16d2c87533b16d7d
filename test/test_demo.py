"""scripts/demo-server.sh with MP_DEMO_PORT/MP_DEMO_ROOT: it serves the
examples, and a second run keeps the edits made to them (examples are
copied into an empty root only, and the script says it reuses the root)."""
import os
import signal
import subprocess
import time
import urllib.request

import harness

SCRIPT = str(harness.REPO / "scripts" / "demo-server.sh")


def _get(port, path):
    deadline = time.monotonic() + 60
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                        timeout=10) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except OSError as e:
            last = e
            time.sleep(0.2)
    raise AssertionError("demo did not answer: %r" % last)


def _run_demo(root, port):
    env = dict(os.environ, MP_DEMO_ROOT=root, MP_DEMO_PORT=str(port))
    # the script execs apache2 -DFOREGROUND: this pid is the httpd parent
    return subprocess.Popen(["bash", SCRIPT], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _stop(proc):
    try:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def test_second_run_keeps_edits():
    root = os.path.join(harness._mkdtemp("mp-demo-"), "demo")
    harness._roots.append(os.path.dirname(root))
    port = harness.free_port()
    proc = _run_demo(root, port)
    try:
        status, body = _get(port, "/hello.py")
        assert status == 200 and "Hello from mod_python" in body, body
    finally:
        out1 = _stop(proc)
    assert "reusing" not in out1
    hello = os.path.join(root, "htdocs", "hello.py")
    text = open(hello).read().replace("Hello from mod_python", "Edited hello from mod_python")
    with open(hello, "w") as f:
        f.write(text)
    port = harness.free_port()
    proc = _run_demo(root, port)
    try:
        status, body = _get(port, "/hello.py")
        assert status == 200 and "Edited hello from mod_python" in body, body
    finally:
        out2 = _stop(proc)
    assert "mod_python demo: reusing %s/htdocs (your edits are kept" % root in out2
    assert "http://127.0.0.1:%d/" % port in out2
