"""A helper module: change GREETING and reload /helpers/ -- the handler
that imported it is re-imported too (dependency tracking)."""
GREETING = "Hello"


def greet(name):
    return "%s, %s!" % (GREETING, name)
