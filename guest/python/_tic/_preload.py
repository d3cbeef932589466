"""Modules imported before the snapshot, so a session finds them already loaded.

The stdlib modules that tool-calling code reaches for most; anything else still imports
from the read-only stdlib archive at run time, only slower.

Every module here is in every session's memory. Left out as rarely needed by a cell for
what they cost (snapshot pages of 4 KiB; a cell importing one waits 10-27 ms, most of it
the session's first import from the archive): html 51, zipfile 44, uuid 28, difflib 23
(_tic.check imports it only to suggest a name), calendar 18, tempfile 15, gzip 6.
"""

MODULES = (
    # data and text
    "json", "re", "csv", "io", "textwrap", "string", "pprint", "base64",
    "binascii", "struct", "codecs", "unicodedata",
    # types and structure
    "typing", "dataclasses", "enum", "abc", "collections", "collections.abc", "copy",
    "types", "contextlib", "operator",
    # iteration and functions
    "itertools", "functools", "heapq", "bisect",
    # numbers and time
    "math", "cmath", "statistics", "decimal", "fractions", "random", "datetime", "time",
    # files, paths and compression
    "os", "pathlib", "glob", "fnmatch", "shutil", "zlib",
    # hashing, ids, urls
    "hashlib", "hmac", "urllib.parse",
    # concurrency and the runtime's own needs
    "asyncio", "traceback", "linecache", "ast", "inspect", "warnings", "weakref",
)
