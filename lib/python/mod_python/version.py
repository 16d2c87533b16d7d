# The version of the mod_python package; must equal MP_VERSION_STRING in
# include/mp_version.h (the C module logs a warning once on a mismatch).
version = "3.6.0"
