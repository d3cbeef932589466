"""Packs the guest's read-only standard library: one zip of .pyc, reproducible.

Run with the build Python (same 3.11 bytecode as the guest):
    python3.11 pack-stdlib.py CPYTHON_BUILD_DIR GUEST_PYTHON_DIR OUT_ZIP [DATA_ROOT...]
A DATA_ROOT holds packages with resource files (the tzdata step's output): its .py are
compiled like the rest, its other files are stored as they are.
Sources are dropped (the guest never recompiles the stdlib) and .pyc files are
hash-based and unchecked, so no timestamp enters the archive: same inputs, same bytes.

Every session carries the snapshot's heap, so the stdlib's code is made smaller (what the
guest imports at snapshot time is in every session's memory):
- no column positions (`-X no_debug_ranges`; the script re-runs itself with it): they
  only place a traceback's ^^^ markers under a source line, and the archive has no
  sources; cells, compiled in the guest, keep theirs;
- no docstrings in the stdlib (the guest's own `_tic` keeps them): `__doc__` of stdlib
  functions, classes and modules is None and `help()` shows only signatures. Unlike -OO,
  asserts stay and `sys.flags.optimize` is 0.
"""

import ast
import importlib.util
import json
import os
import sys
import zipfile

# Never useful in a sandbox without a display, a terminal, subprocesses or a package
# manager, or needing a C module the wasm32-wasi build does not have.
EXCLUDED_TOP = {
    "test", "idlelib", "tkinter", "turtledemo", "turtle.py", "ensurepip", "lib2to3",
    "distutils", "venv", "pydoc_data", "site-packages", "msilib", "curses", "ctypes",
    "dbm/gnu.py", "dbm/ndbm.py", "multiprocessing", "_bootsubprocess.py",
    "__phello__", "antigravity.py", "this.py", "xdrlib.py", "tabnanny.py",
    "_pydecimal.py",  # the C _decimal is built; the pure-Python twin is 230 kB of bytecode
}
EXCLUDED_DIR_NAMES = {"test", "tests", "idle_test", "__pycache__"}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ARCHIVE_ROOT = "/lib/python311.zip"


def wanted(rel: str) -> bool:
    parts = rel.split("/")
    if parts[0] in EXCLUDED_TOP or "/".join(parts[:2]) in EXCLUDED_TOP:
        return False
    return not any(p in EXCLUDED_DIR_NAMES for p in parts[:-1])


# Host paths of this build (the cache root: build tree, sysroot) that CPython's build
# writes into _sysconfigdata: replaced by fixed ones so the archive is the same bytes
# whichever folder or user built it. TIC_PATH_MAP is "from=to" pairs separated by ";".
PATH_MAP = [tuple(pair.split("=", 1)) for pair in os.environ.get("TIC_PATH_MAP", "").split(";") if "=" in pair]


def sysconfigdata_source(source: bytes) -> bytes:
    """The build's variables with PATH_MAP applied, printed afresh: the generated file
    wraps long strings at widths that depend on the paths' lengths, and the line
    numbers would otherwise differ in the bytecode even after the paths are replaced."""
    import pprint
    namespace: dict = {}
    exec(compile(source, "_sysconfigdata", "exec"), namespace)
    def mapped(value):
        if isinstance(value, str):
            for old, new in PATH_MAP:
                value = value.replace(old, new)
        return value
    variables = {key: mapped(value) for key, value in namespace["build_time_vars"].items()}
    return ("# system configuration generated at build time (host paths mapped)\nbuild_time_vars = "
            + pprint.pformat(variables) + "\n").encode()


def without_docstrings(tree: ast.Module) -> ast.Module:
    """The tree without the docstring of its module, classes and functions (a body left
    empty gets a `pass`); line numbers of the rest are unchanged."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                body.pop(0)
                if not body:
                    body.append(ast.copy_location(ast.Pass(), first))
    return tree


def pyc_bytes(path: str, rel: str, keep_docs: bool) -> bytes:
    source = open(path, "rb").read()
    if rel.startswith("_sysconfigdata"):
        source = sysconfigdata_source(source)
    filename = f"{ARCHIVE_ROOT}/{rel}"
    tree = ast.parse(source, filename)
    if not keep_docs:
        tree = without_docstrings(tree)
    code = compile(tree, filename, "exec", dont_inherit=True, optimize=0)
    source_hash = importlib.util.source_hash(source)
    from importlib._bootstrap_external import _code_to_hash_pyc
    return bytes(_code_to_hash_pyc(code, source_hash, checked=False))


def collect(root: str, prefix: str = "", resources: bool = False):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if not (resources or name.endswith(".py")):
                continue
            full = os.path.join(dirpath, name)
            rel = prefix + os.path.relpath(full, root).replace(os.sep, "/")
            if wanted(rel):
                yield full, rel


def main() -> None:
    if not sys._xoptions.get("no_debug_ranges"):
        os.execv(sys.executable, [sys.executable, "-X", "no_debug_ranges", *sys.argv])
    build_dir, guest_python_dir, out_zip = sys.argv[1:4]
    data_roots = sys.argv[4:]
    build_lib = open(os.path.join(build_dir, "pybuilddir.txt")).read().strip()
    files = dict()
    for full, rel in collect(os.path.join(build_dir, "Lib")):
        files[rel] = full
    # sysconfig data generated for the wasm32-wasi target
    for full, rel in collect(os.path.join(build_dir, build_lib)):
        files[rel] = full
    own = set()
    for full, rel in collect(guest_python_dir):
        files[rel] = full
        own.add(rel)
    for root in data_roots:
        for full, rel in collect(root, resources=True):
            files[rel] = full
    tmp = out_zip + ".tmp"
    source_bytes = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for rel in sorted(files):
            source_bytes += os.path.getsize(files[rel])
            is_py = rel.endswith(".py")
            info = zipfile.ZipInfo(rel[:-3] + ".pyc" if is_py else rel, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o444 << 16
            zf.writestr(info, pyc_bytes(files[rel], rel, keep_docs=rel in own) if is_py else open(files[rel], "rb").read())
    os.replace(tmp, out_zip)
    modules = sum(1 for rel in files if rel.endswith(".py"))
    print(json.dumps({"modules": modules, "sourceBytes": source_bytes,
                      "zipBytes": os.path.getsize(out_zip)}))


if __name__ == "__main__":
    main()
