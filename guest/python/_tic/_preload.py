"""Modules imported before the snapshot, so a session finds them already loaded.

The stdlib modules that tool-calling code reaches for most; anything else still imports
from the read-only stdlib archive at run time, only slower.
"""

MODULES = (
    # data and text
    "json", "re", "csv", "io", "textwrap", "string", "pprint", "difflib", "html", "base64",
    "binascii", "struct", "codecs", "unicodedata",
    # types and structure
    "typing", "dataclasses", "enum", "abc", "collections", "collections.abc", "copy",
    "types", "contextlib", "operator",
    # iteration and functions
    "itertools", "functools", "heapq", "bisect",
    # numbers and time
    "math", "cmath", "statistics", "decimal", "fractions", "random", "datetime", "time",
    "calendar",
    # files, paths and compression
    "os", "pathlib", "glob", "fnmatch", "shutil", "tempfile", "zlib", "gzip", "zipfile",
    # hashing, ids, urls
    "hashlib", "hmac", "uuid", "urllib.parse",
    # concurrency and the runtime's own needs
    "asyncio", "traceback", "linecache", "ast", "inspect", "warnings", "weakref",
)
