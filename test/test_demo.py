"""scripts/demo-server.sh with MP_DEMO_PORT/MP_DEMO_ROOT: it serves the
examples, and a second run keeps the edits made to them (examples are
copied into an empty root only, and the script says it reuses the root)."""
import os
import signal
import subprocess

import harness

SCRIPT = str(harness.REPO / "scripts" / "demo-server.sh")


def _get(port, path):
    return harness.wait_get(port, path, timeout=60)


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


def _serve_once(root, path):
    """Run the demo on a free port, GET path, stop it: (body, output)."""
    port = harness.free_port()
    proc = _run_demo(root, port)
    try:
        status, body = _get(port, path)
        assert status == 200, body
    finally:
        out = _stop(proc)
    return body, out


def test_second_run_keeps_edits():
    root = os.path.join(harness._mkdtemp("mp-demo-"), "demo")
    harness._roots.append(os.path.dirname(root))
    body, out1 = _serve_once(root, "/hello.py")
    assert "Hello from mod_python" in body, body
    assert "reusing" not in out1
    hello = os.path.join(root, "htdocs", "hello.py")
    text = open(hello).read().replace("Hello from mod_python", "Edited hello from mod_python")
    with open(hello, "w") as f:
        f.write(text)
    body, out2 = _serve_once(root, "/hello.py")
    assert "Edited hello from mod_python" in body, body
    assert "mod_python demo: reusing %s/htdocs (your edits are kept" % root in out2
    assert "mod_python demo: http://127.0.0.1:" in out2
