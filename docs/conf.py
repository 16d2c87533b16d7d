# Sphinx configuration of the mod_python manual.
# Built by `make docs` (Debian's python3-sphinx; the default alabaster theme,
# no extensions), warnings are errors.
import re
from pathlib import Path

_ver = Path(__file__).resolve().parents[1] / "lib" / "python" / "mod_python" / "version.py"

project = "mod_python"
author = "the mod_python developers"
copyright = "the mod_python developers, Apache License 2.0"
release = re.search(r'version = "([^"]+)"', _ver.read_text()).group(1)
version = release

extensions = []
master_doc = "index"
exclude_patterns = ["_build"]
highlight_language = "none"
pygments_style = "sphinx"
nitpicky = True
html_theme = "alabaster"
html_title = "mod_python %s manual" % release
html_static_path = []
html_show_sourcelink = False
html_theme_options = {"description": "Python inside Apache httpd 2.4",
                      "fixed_sidebar": False}
