"""A login kept in a session: the session id travels in a cookie, the
session data stays on the server (here: FileSession, see tutorial.conf)."""
import html

from mod_python import apache, Session, util

USERS = {"alice": "wonderland"}   # use a real password store in real life


def handler(req):
    session = Session.Session(req)
    form = util.FieldStorage(req)
    action = form.getfirst("action", "")
    if action == "login":
        name = form.getfirst("name", "")
        if USERS.get(name) == form.getfirst("password", ""):
            session["user"] = name
            session.save()
        else:
            return answer(req, "Wrong name or password.")
    elif action == "logout":
        session.invalidate()
        return answer(req, "Logged out.")
    user = session.get("user")
    if user is None:
        return answer(req, "Please log in.")
    session["visits"] = session.get("visits", 0) + 1
    session.save()
    return answer(req, "Logged in as %s (visit %d)." % (html.escape(user), session["visits"]))


def answer(req, text):
    req.content_type = "text/html; charset=utf-8"
    req.write("<!DOCTYPE html><html><body><p>%s</p>"
              '<form method="post"><input name="name"> <input name="password" type="password">'
              '<button name="action" value="login">Log in</button>'
              '<button name="action" value="logout">Log out</button></form>'
              "</body></html>" % text)
    return apache.OK
