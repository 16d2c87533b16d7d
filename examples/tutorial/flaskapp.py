"""A Flask application served by mod_python.wsgi (see tutorial.conf)."""
from flask import Flask, request

app = Flask(__name__)


@app.route("/")
def index():
    return "Flask under mod_python\n"


@app.route("/hello/<name>")
def hello(name):
    return {"hello": name, "script_name": request.script_root}
