#!/usr/bin/python3
"""Benchmark (not in CI): requests per second of a session read+write
handler on FileSession, RedisSession and MemcachedSession, with wrk, in one
run.  Usage: bench/sessions.sh [seconds] [connections]

One httpd (event MPM) on loopback, a real redis-server and memcached on free
ports; SESSIONS sessions are made first in each store, and every request
picks one of them at random (so the session locks are not one queue), loads
it, increments a counter and saves it.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test"))

from harness import Httpd  # noqa: E402
from storeservers import MemcachedServer, RedisServer  # noqa: E402

SESSIONS = 200
HANDLER = r'''
from mod_python import apache, Session

def handler(req):
    s = Session.Session(req)
    s["n"] = s.get("n", 0) + 1
    s.save()
    req.content_type = "text/plain"
    req.write("%s %d" % (s.id(), s["n"]))
    return apache.OK
'''
STORES = (("FileSession", "f"), ("RedisSession", "r"), ("MemcachedSession", "m"))


def conf(redis, memcached):
    out = "PythonDebug Off\nLogLevel warn\n"
    for kind, d in STORES:
        out += '''<Directory "@DOCROOT@/%s">
    SetHandler mod_python
    PythonHandler h
    PythonAutoReload Off
    PythonOption mod_python.session.session_type %s
    PythonOption mod_python.session.database_directory @ROOT@/tmp/store
    PythonOption mod_python.session.redis_url %s
    PythonOption mod_python.session.memcached_servers %s
    PythonOption mod_python.session.store_secret bench-secret
</Directory>
''' % (d, kind, redis.url, memcached.spec)
    return out


def make_sessions(srv, d):
    ids = []
    for _ in range(SESSIONS):
        r = srv.get("/%s/h.py" % d)
        assert r.status == 200, r
        ids.append(r.body.split()[0].decode())
    return ids


def wrk(srv, d, ids, seconds, connections):
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lua.write("local ids = {%s}\n" % ",".join('"%s"' % i for i in ids))
    lua.write('request = function()\n'
              '  return wrk.format("GET", "/%s/h.py", '
              '{["Cookie"] = "pysid=" .. ids[math.random(#ids)]})\nend\n' % d)
    lua.close()
    cmd = ["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "-s", lua.name,
           "http://127.0.0.1:%d/" % srv.port]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    os.unlink(lua.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, int(bad.group(1)) if bad else 0


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    redis, memcached = RedisServer().start(), MemcachedServer().start()
    files = {"htdocs/%s/h.py" % d: HANDLER for _, d in STORES}
    srv = Httpd(conf(redis, memcached), files=files, mpm="event", name="bench-sessions")
    srv.start()
    try:
        rows = []
        for kind, d in STORES:
            ids = make_sessions(srv, d)
            rps, bad = wrk(srv, d, ids, seconds, connections)
            rows.append((kind, rps, bad))
        print("session read+write handler, event MPM, wrk -t2 -c%d -d%ds, %d sessions"
              % (connections, seconds, SESSIONS))
        print("%-18s %12s %10s" % ("store", "requests/s", "non-2xx"))
        for kind, rps, bad in rows:
            print("%-18s %12.0f %10d" % (kind, rps, bad))
        print(json.dumps({k: round(r) for k, r, _ in rows}))
    finally:
        srv.stop()
        redis.stop()
        memcached.stop()


if __name__ == "__main__":
    main()
