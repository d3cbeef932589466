"""Packs the user's pure-Python packages (`tic build --package`) into one read-only zip.

Run with the build Python (same 3.11 bytecode as the guest), a JSON request on stdin:
    {"inputs": [PATH, ...], "out": ZIP, "stdlibZip": ZIP, "archiveRoot": "/lib/packages.zip",
     "reserved": {"tools": "the SDK", ...}}
and a JSON report on stdout: {"packages": [...], "warnings": [...], "errors": [...]}.

A PATH is a package folder, a folder of packages (site-packages, Debian's dist-packages,
or the root of an unpacked .deb), a single .py module, a wheel or a zip. Every input is
seen as a site-packages root: top-level modules and packages, and the `.dist-info` /
`.egg-info` metadata that names them. Native files cannot run in the guest: they are left
out and reported. Like pack-stdlib.py, modules become hash-based unchecked .pyc with fixed
zip times in sorted order, so the same inputs give the same bytes; the sources go in too,
so tracebacks quote the lines of the user's code.
"""

import email.parser
import hashlib
import importlib.util
import json
import os
import re
import sys
import zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
NATIVE = re.compile(r"\.(so|pyd|dylib|dll)(\.[0-9.]+)?$")
METADATA_DIR = re.compile(r"^[^/]+\.(dist-info|egg-info)$")
DEB_SITE = ("usr/lib/python3/dist-packages",)
SKIPPED_DIRS = {"__pycache__"}


class Input:
    """One --package PATH as a site-packages root: relative path -> bytes loader."""

    def __init__(self, spec: str):
        self.spec = spec
        self.files: dict = {}
        self.ignored: list = []  # wheel parts that are not importable code (scripts, headers)

    def origin(self, rel: str) -> str:
        return os.path.join(self.spec, rel) if self.kind == "folder" else f"{self.spec}:{rel}"


def is_identifier(name: str) -> bool:
    return name.isidentifier()


def module_name(filename: str):
    """`six.py` -> six, `_x.cpython-311-x86_64-linux-gnu.so` -> _x; None for anything else."""
    if filename.endswith(".py"):
        return filename[:-3]
    if NATIVE.search(filename):
        return filename.split(".", 1)[0]
    return None


def walk(root: str, sub: str = ""):
    """Files under root/sub, relative to root, sorted; no __pycache__ or hidden entries."""
    base = os.path.join(root, sub) if sub else root
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name.endswith((".pyc", ".pyo")):
                continue
            full = os.path.join(dirpath, name)
            yield os.path.relpath(full, root).replace(os.sep, "/"), full


def reader(path: str):
    return lambda: open(path, "rb").read()


def metadata_tops(files: dict, meta: str, name: str) -> list:
    """The top-level modules a distribution's metadata claims."""
    if f"{meta}/top_level.txt" in files:
        text = files[f"{meta}/top_level.txt"]().decode("utf-8", "replace")
        return [line.strip() for line in text.splitlines() if line.strip()]
    if f"{meta}/RECORD" in files:
        tops = []
        for line in files[f"{meta}/RECORD"]().decode("utf-8", "replace").splitlines():
            path = line.split(",", 1)[0]
            first = path.split("/", 1)[0]
            mod = first if "/" in path else module_name(first)
            if mod and is_identifier(mod) and mod not in tops:
                tops.append(mod)
        return tops
    return [re.sub(r"[-.]+", "_", name).lower()]


def metadata_next_to(folder: str, module: str, inp: Input) -> None:
    """A package folder or module taken out of a site-packages: add the metadata beside it that names it."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return
    for name in names:
        full = os.path.join(folder, name)
        if not METADATA_DIR.match(name) or not os.path.isdir(full):
            continue
        files = {rel: reader(p) for rel, p in walk(folder, name)}
        if module in metadata_tops(files, name, name.split("-", 1)[0]):
            inp.files.update(files)
            return


def load_input(spec: str, errors: list) -> Input:
    inp = Input(spec)
    path = spec
    if not os.path.exists(path):
        errors.append({"source": spec, "message": "no such file or folder"})
        return inp
    if os.path.isdir(path):
        inp.kind = "folder"
        if os.path.isfile(os.path.join(path, "__init__.py")):
            name = os.path.basename(os.path.abspath(path))
            if not is_identifier(name):
                errors.append({"source": spec, "message": f"a package folder must be named like a Python module, not {name!r}"})
                return inp
            parent = os.path.dirname(os.path.abspath(path))
            inp.files = {rel: reader(full) for rel, full in walk(parent, name)}
            inp.origin = lambda rel: os.path.join(parent, rel)
            metadata_next_to(parent, name, inp)
            return inp
        for site in DEB_SITE:  # the root of an unpacked .deb (dpkg-deb -x)
            if os.path.isdir(os.path.join(path, site)):
                path = os.path.join(path, site)
                break
        inp.files = {rel: reader(full) for rel, full in walk(path)}
        inp.origin = lambda rel: os.path.join(path, rel)
        return inp
    if path.endswith(".py"):
        inp.kind = "folder"
        name = os.path.basename(path)[:-3]
        if not is_identifier(name):
            errors.append({"source": spec, "message": f"a module's file name must be a Python identifier, not {name!r}"})
            return inp
        parent = os.path.dirname(os.path.abspath(path))
        inp.files = {os.path.basename(path): reader(path)}
        inp.origin = lambda rel: os.path.join(parent, rel)
        metadata_next_to(parent, name, inp)
        return inp
    if path.endswith((".whl", ".zip")):
        inp.kind = "archive"
        try:
            zf = zipfile.ZipFile(path)
            names = zf.namelist()
        except (zipfile.BadZipFile, OSError) as exc:
            errors.append({"source": spec, "message": f"not a readable zip archive ({exc})"})
            return inp
        for name in sorted(names):
            if name.endswith("/") or "__pycache__/" in name or name.endswith((".pyc", ".pyo")):
                continue
            rel = name
            parts = name.split("/")
            # A wheel's `NAME.data/purelib|platlib/...` installs into site-packages too.
            if len(parts) > 2 and parts[0].endswith(".data"):
                if parts[1] in ("purelib", "platlib"):
                    rel = "/".join(parts[2:])
                else:
                    inp.ignored.append(name)
                    continue
            inp.files[rel] = (lambda n: lambda: zf.read(n))(name)
        return inp
    errors.append({"source": spec, "message": "expected a folder, a .py module, a .whl wheel or a .zip archive"})
    return inp


def stdlib_names(stdlib_zip: str) -> set:
    names = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
    with zipfile.ZipFile(stdlib_zip) as zf:
        for n in zf.namelist():
            top = n.split("/", 1)[0]
            names.add(top[:-4] if top.endswith(".pyc") else top)
    return names


def parse_metadata(files: dict, meta: str):
    for leaf in ("METADATA", "PKG-INFO"):
        if f"{meta}/{leaf}" in files:
            msg = email.parser.BytesHeaderParser().parsebytes(files[f"{meta}/{leaf}"]())
            return msg.get("Name"), msg.get("Version")
    base = meta.rsplit(".", 1)[0]
    name, _, version = base.partition("-")
    return name, version or None


def pyc_bytes(source: bytes, filename: str) -> bytes:
    code = compile(source, filename, "exec", dont_inherit=True, optimize=0)
    return bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False))


def main() -> None:
    req = json.load(sys.stdin)
    archive_root = req["archiveRoot"]
    reserved: dict = req["reserved"]
    stdlib = stdlib_names(req["stdlibZip"])
    errors: list = []
    warnings: list = []
    owners: dict = {}  # top-level module -> the input that brought it
    dists: list = []

    for spec in req["inputs"]:
        inp = load_input(spec, errors)
        if not inp.files:
            if not any(e["source"] == spec for e in errors):
                errors.append({"source": spec, "message": "no Python modules found here"})
            continue
        for name in inp.ignored:
            warnings.append({"source": spec, "message": f"left out {name}: not part of an importable package"})

        # Group the files by top-level module; metadata folders apart.
        modules: dict = {}   # name -> [rel]
        metas: dict = {}     # metadata folder -> [rel]
        ignored = []
        for rel in sorted(inp.files):
            parts = rel.split("/")
            if METADATA_DIR.match(parts[0]) and len(parts) > 1:
                metas.setdefault(parts[0], []).append(rel)
                continue
            top = module_name(parts[0]) if len(parts) == 1 else parts[0]
            if top is None or not is_identifier(top):
                ignored.append(rel)
                continue
            modules.setdefault(top, []).append(rel)
        # A folder with no code in it is not a package (docs, share, bin ...).
        for top in list(modules):
            if not any(r.endswith(".py") or NATIVE.search(r) for r in modules[top]):
                ignored.extend(modules.pop(top))
        if ignored:
            shown = ", ".join(sorted({r.split("/", 1)[0] for r in ignored}))
            warnings.append({"source": spec, "message": f"left out what is not a Python module or package: {shown}"})

        # Which distribution each module belongs to, from the metadata that names it.
        claimed: dict = {}
        for meta in sorted(metas):
            name, version = parse_metadata(inp.files, meta)
            tops = [t for t in metadata_tops(inp.files, meta, name or meta) if t in modules and t not in claimed]
            if not tops:
                continue
            dist = {"name": name or tops[0], "version": version, "modules": tops, "metadata": meta, "source": spec}
            for t in tops:
                claimed[t] = dist
            dists.append(dist)
        for top in sorted(modules):
            if top not in claimed:
                dist = {"name": top, "version": None, "modules": [top], "metadata": None, "source": spec}
                claimed[top] = dist
                dists.append(dist)

        for top in sorted(modules):
            dist = claimed[top]
            rels = modules[top]
            native = [r for r in rels if NATIVE.search(r)]
            dist.setdefault("leftOut", []).extend(inp.origin(r) for r in native)
            dist.setdefault("nativeParents", [])
            for r in native:
                parent = ".".join(r.split("/")[:-1])
                if parent and all(not p.startswith("_") for p in parent.split(".")) and parent not in dist["nativeParents"]:
                    dist["nativeParents"].append(parent)
            code = [r for r in rels if not NATIVE.search(r)]
            if not any(r.endswith(".py") for r in code):
                dist["modules"].remove(top)  # native only: nothing of it can run
                continue
            dist.setdefault("files", []).extend(code)
            dist["_input"] = inp
            where = inp.origin(top + ".py" if code == [top + ".py"] else top)
            clash = None
            if top in reserved:
                clash = reserved[top]
            elif top in stdlib:
                clash = f"the standard library's {top}"
            elif top in owners:
                clash = f"{top} from {owners[top]}"
            if clash:
                errors.append({"source": spec, "message": f"module {top} ({where}) would shadow {clash}: rename it or leave one out"})
            owners[top] = where
        for meta, rels in metas.items():
            for d in dists:
                if d.get("metadata") == meta and d["source"] == spec:
                    d.setdefault("metaFiles", []).extend(r for r in rels if not r.endswith("/RECORD"))

    kept = [d for d in dists if d["modules"]]
    # Nothing of it can run: a package made only of native code stops the build.
    for d in dists:
        if not d["modules"] and d.get("leftOut"):
            what = f"package {d['name']}" + (f" {d['version']}" if d["version"] else "")
            errors.append({"source": d["source"], "message": f"{what} is only native code, which the guest cannot run ({', '.join(d['leftOut'])}): leave it out"})
    report = {"packages": [], "warnings": warnings, "errors": errors}
    for d in dists:
        for f in d.get("leftOut", []):
            warnings.append({"source": d["source"], "message": f"left out native file {f}: native code cannot run in the guest"})
    if errors:
        print(json.dumps(report))
        return

    entries: dict = {}  # archive path -> bytes
    for d in kept:
        inp = d["_input"]
        digest = hashlib.sha256()
        for rel in sorted(d.get("files", []) + d.get("metaFiles", [])):
            data = inp.files[rel]()
            digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
            entries[rel] = data
            if rel.endswith(".py"):
                try:
                    entries[rel[:-3] + ".pyc"] = pyc_bytes(data, f"{archive_root}/{rel}")
                except (SyntaxError, ValueError) as exc:
                    warnings.append({"source": d["source"], "message": f"{inp.origin(rel)} does not compile as Python 3.11 ({exc.__class__.__name__}: {exc}); kept as source, importing it will fail"})
        report["packages"].append({
            "name": d["name"], "version": d["version"], "modules": d["modules"], "sha256": digest.hexdigest(),
            "source": d["source"], "metadata": d["metadata"], "leftOut": d.get("leftOut", []),
            "nativeParents": d.get("nativeParents", []),
        })
    tmp = req["out"] + ".tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for rel in sorted(entries):
            info = zipfile.ZipInfo(rel, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o444 << 16
            zf.writestr(info, entries[rel])
    os.replace(tmp, req["out"])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
