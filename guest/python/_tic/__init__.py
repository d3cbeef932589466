"""Guest-side runtime of tooliscode: runs cells like a notebook and talks to the host.

The C shim calls `_init()` once (at snapshot time) and `run_cell(source)` per cell.
A cell's result goes back to the host as one JSON object:
    {"ok": true, "value": "<repr of the last expression>"}   (value only if not None)
    {"ok": false, "error": {"type", "message", "traceback"}}
The value, the message and the traceback are each cut to the session's output cap
(`_tic_host.output_limit()`, UTF-8 bytes) with the host's truncation marker.
"""

import ast
import builtins
import inspect
import json
import linecache
import sys
import traceback
from json.encoder import c_encode_basestring as _c_encode_str, c_make_encoder as _c_encoder
from json.scanner import c_make_scanner as _c_scanner

import _tic_host
from _tic import _preload
from _tic import check as _check  # pre-flight check of cells (check.py)
from _tic.check import CellCheckError as CellCheckError
from _tic.content import Audio as Audio, Image as Image, Resource as Resource, ResourceLink as ResourceLink, decode as _decode_content

# One namespace for every cell of the session: that is what makes globals persist. It is
# the __main__ module's own, as a script's is: unittest.main(), pickle of a class a cell
# defined, typing.get_type_hints and doctest find names through sys.modules["__main__"].
_namespace: dict = sys.modules["__main__"].__dict__
_namespace["__builtins__"] = builtins
_cell_count = 0
_CELL_PREFIX = "<cell-"


def _init() -> None:
    """Import what a session should find already loaded; runs once, before the snapshot."""
    import os

    for name in _preload.MODULES:
        __import__(name)
    from _tic import aio, threads

    # Python's own default (CPython 3.11 lowers it to 600 on WASI, for the 512 KiB C stack
    # of its wasm build; link.sh gives this guest 4 MiB): a recursion a script can make
    # natively (a DFS 900 deep, a tree of classes 450 deep) works here too.
    sys.setrecursionlimit(1000)
    aio.install()
    threads.install()
    _interruptible_sleep()
    _home_is_workspace()
    _load_sdk()
    _check.load()  # the SDK's signature table, read once into the snapshot
    _load_packages()
    _run_setup()
    # The session's workspace is the working directory: relative paths land there.
    os.chdir("/workspace")
    # Line-buffered stdout so output reaches the host while a cell runs, not only at its end.
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)


def _interruptible_sleep() -> None:
    """A timeout wakes a sleeping guest early; the sleep then raises TimeoutError instead
    of returning as if the time had passed."""
    import functools
    import time

    sleep = time.sleep

    @functools.wraps(sleep)
    def interruptible(secs):
        sleep(secs)
        _tic_host.check_interrupt()

    time.sleep = interruptible


def _home_is_workspace() -> None:
    """`~` is the workspace. The guest has no HOME (its environment is empty) and no pwd
    module, so `Path.home()` raised "Could not determine home directory" and `~/out.csv`
    stayed a relative path named `~`; a cell's home is where its files go."""
    import functools
    import os
    import posixpath

    expand = posixpath.expanduser

    @functools.wraps(expand)
    def expanduser(path):
        path = os.fspath(path)
        tilde, sep, home = (b"~", b"/", b"/workspace") if isinstance(path, bytes) else ("~", "/", "/workspace")
        if "HOME" not in os.environ and (path == tilde or path.startswith(tilde + sep)):
            return home + path[1:]
        return expand(path)

    posixpath.expanduser = expanduser


SDK_DIR = "/lib/sdk"


def _load_sdk() -> None:
    """A guest built by `tic build` has its SDK in /lib/sdk: import it into the cells' namespace."""
    import importlib
    import os

    if not os.path.isdir(SDK_DIR):
        return
    sys.path.insert(0, SDK_DIR)
    import _tic_sdk  # written by tic build: the SDK's top-level modules

    for name in _tic_sdk.MODULES:
        _namespace[name] = importlib.import_module(name)


def _load_packages() -> None:
    """`tic build --package`: the packages' archive on sys.path (after the stdlib, which
    they may not shadow), and the `--preload` ones imported so a session finds them loaded."""
    import importlib

    sdk = sys.modules.get("_tic_sdk")
    for path in getattr(sdk, "PATHS", ()):
        if path not in sys.path:
            sys.path.append(path)
    for name in getattr(sdk, "PRELOAD", ()):
        importlib.import_module(name)


def _run_setup() -> list:
    """`tic build --setup FILE.py`: runs once in the cells' namespace (so its globals are in
    every session), from its own folder (so it can read files beside it), with `__file__`
    set while it runs. Returns the names it added."""
    import os

    path = getattr(sys.modules.get("_tic_sdk"), "SETUP", None)
    if path is None:
        return []
    with open(path, "rb") as f:
        source = f.read()
    # Kept in linecache: the file is not there at run time, tracebacks still quote it.
    text = source.decode("utf-8", "replace")
    linecache.cache[path] = (len(text), None, text.splitlines(True), path)
    code = compile(source, path, "exec", dont_inherit=True)
    before = set(_namespace)
    cwd = os.getcwd()
    _namespace["__file__"] = path
    os.chdir(os.path.dirname(path))
    try:
        exec(code, _namespace)
    finally:
        try:
            os.chdir(cwd)
        except OSError:  # while Wizer snapshots, the cwd is "/", no mount; _init moves to /workspace next
            pass
        _namespace.pop("__file__", None)
        _flush()
    return [name for name in _namespace if name not in before]


def _split_last_expression(tree: ast.Module):
    """Detach a final expression statement so its value can be returned, as a notebook does."""
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body.pop()
        return tree, ast.Expression(body=last.value)
    return tree, None


def _user_traceback(exc: BaseException):
    """The exception's traceback starting at the first frame of a cell (drops this module's)."""
    tb = exc.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(_CELL_PREFIX):
        tb = tb.tb_next
    return tb


_RUNTIME_FILES = (__file__.rsplit("/", 1)[0] + "/",)


def _hide_runtime_frames(te: traceback.TracebackException) -> None:
    """Frames of this module say nothing to the cell's author; drop them at every level."""
    while te is not None:
        te.stack = traceback.StackSummary.from_list(
            [f for f in te.stack if not f.filename.startswith(_RUNTIME_FILES)]
        )
        te = te.__cause__ or te.__context__


# What an error's type name may take, whatever the cap: a class may be named by a cell.
_TYPE_NAME_BYTES = 1024


def _marker(limit: int) -> str:
    # The same words as the host's marker on stdout (runtime/instance.ts emit).
    return f"\n[tooliscode: output truncated after {limit} bytes]"


def _cap(text: str, limit) -> str:
    """`text` as valid UTF-8 (a lone surrogate becomes `\\udc80`, which the host can read)
    cut to `limit` bytes at a character boundary, with the marker when cut. Copies at most
    `limit` + 1 characters of a long text, so a huge one costs no second copy."""
    head = text if limit is None else text[: limit + 1]
    data = head.encode("utf-8", "backslashreplace")
    if limit is None or (len(data) <= limit and len(head) == len(text)):
        return data.decode("utf-8")
    # "ignore" drops only the bytes of the one character the cut went through.
    return data[:limit].decode("utf-8", "ignore") + _marker(limit)


class _Full(Exception):
    """The rendered text has passed its budget: the rest is never computed."""


class _Writer:
    __slots__ = ("parts", "room")

    def __init__(self, limit: int):
        self.parts: list = []
        self.room = limit + 1  # one character past the cap tells _cap that it was cut

    def write(self, text: str) -> None:
        if len(text) >= self.room:
            self.parts.append(text[: self.room])
            raise _Full
        self.parts.append(text)
        self.room -= len(text)


def _quoted_prefix(value, room: int) -> str:
    """The first `room` + 1 characters (or more) of repr() of a long str or bytes, without
    building the whole repr: the repr of a slice, with the quotes the whole one would use."""
    piece = repr(value[: room + 1])
    q1, q2 = ("'", '"') if type(value) is str else (b"'", b'"')
    prefix = "" if type(value) is str else "b"
    whole_double = q1 in value and q2 not in value  # how repr() chooses its quotes
    piece_double = piece[len(prefix)] == '"'
    if whole_double == piece_double:
        return piece
    inner = piece[len(prefix) + 1 : -1]
    if whole_double:  # the slice has no ' (so no escaped one) and no "
        return f'{prefix}"{inner}"'
    return prefix + "'" + inner.replace("'", "\\'") + "'"


_CONTAINERS = (list, tuple, dict, set, frozenset)


def _write_repr(value, out: _Writer, active: set) -> None:
    """Writes repr(value) to `out` (which stops it at its budget). The builtin containers
    and strings are written piece by piece, so a value of millions of items costs only the
    budget; anything else (a class's own __repr__ included) is repr() as usual."""
    kind = type(value)
    if kind is str or kind is bytes:
        out.write(repr(value) if len(value) < out.room else _quoted_prefix(value, out.room))
        return
    if kind not in _CONTAINERS:
        out.write(repr(value))
        return
    if not value:
        out.write(repr(value))
        return
    if id(value) in active:  # a container inside itself: as repr() writes it
        out.write("[...]" if kind is list else "{...}" if kind is dict else "(...)" if kind is tuple else f"{kind.__name__}(...)")
        return
    active.add(id(value))
    try:
        if kind is frozenset:
            out.write("frozenset(")
        out.write("[" if kind is list else "(" if kind is tuple else "{")
        first = True
        if kind is dict:
            for key, item in value.items():
                if not first:
                    out.write(", ")
                first = False
                _write_repr(key, out, active)
                out.write(": ")
                _write_repr(item, out, active)
        elif kind is list or kind is tuple:
            _write_items(value, out, active)
        else:
            for item in value:
                if not first:
                    out.write(", ")
                first = False
                _write_repr(item, out, active)
        if kind is tuple and len(value) == 1:
            out.write(",")
        out.write("]" if kind is list else ")" if kind is tuple else "}")
        if kind is frozenset:
            out.write(")")
    finally:
        active.discard(id(value))


# Items whose repr is short and never calls a cell's code: a run of them is written by one
# repr() of a slice, at C speed (a flat list of a million numbers is the common big value).
_FLAT = frozenset((int, float, bool, type(None)))
_CHUNK = 256


def _write_items(items, out: _Writer, active: set) -> None:
    for start in range(0, len(items), _CHUNK):
        if start:
            out.write(", ")
        chunk = items[start : start + _CHUNK]
        if set(map(type, chunk)) <= _FLAT:
            out.write(repr(list(chunk))[1:-1])
            continue
        for i, item in enumerate(chunk):
            if i:
                out.write(", ")
            _write_repr(item, out, active)


def _render(value, limit) -> str:
    """repr(value), cut to `limit` bytes with the marker."""
    if limit is None:
        return _cap(repr(value), None)
    out = _Writer(limit)
    try:
        _write_repr(value, out, set())
    except _Full:
        pass
    return _cap("".join(out.parts), limit)


def _join_capped(lines, limit) -> str:
    """The lines of a formatted traceback, joined and cut; stops reading them at the cap."""
    if limit is None:
        return _cap("".join(lines), None)
    out = _Writer(limit)
    try:
        for line in lines:
            out.write(line)
    except _Full:
        pass
    return _cap("".join(out.parts), limit)


def _type_name(exc: BaseException) -> str:
    try:
        cls = type(exc)
        name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
        return _cap(str(name), _TYPE_NAME_BYTES)
    except BaseException:  # noqa: BLE001 - a metaclass may make even the name fail
        return "BaseException"


def _describe(exc: BaseException, limit) -> dict:
    """The error as the host gets it; never raises, whatever the exception's __str__ does."""
    name = _type_name(exc)
    try:
        message = _cap(str(exc), limit)
    except BaseException:  # noqa: BLE001 - the words of traceback.py for the same case
        message = _cap("<exception str() failed>", limit)
    try:
        formatted = traceback.TracebackException(type(exc), exc, _user_traceback(exc), compact=True)
        _hide_runtime_frames(formatted)
        text = _join_capped(formatted.format(), limit)
    except BaseException as failure:  # noqa: BLE001 - a cell's exception can break formatting
        text = _cap(f"{name}: {message}\n(the traceback could not be formatted: {type(failure).__name__})\n", limit)
    return {"type": name, "message": message, "traceback": text}


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a cell may have replaced or closed a stream; never fail the result
            pass


def _start_session() -> None:
    """First cell of a session: what the snapshot froze must not be shared by sessions."""
    import random

    random.seed()  # from the host's CSPRNG, not the snapshot's fixed state


# Cells may `await` at top level (`await asyncio.gather(tools.aio.a(), tools.aio.b())`).
_TOP_LEVEL_AWAIT = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _execute(code):
    result = eval(code, _namespace)
    if code.co_flags & inspect.CO_COROUTINE:
        from _tic import aio

        result = aio.run(result)
    return result


# Bound now: a cell may replace json.dumps, and the result must still go out.
_dumps = json.dumps
# What run_cell returns when even building a small result fails (memory exhausted): a
# constant, so returning it allocates nothing.
_UNRENDERABLE = (
    '{"ok": false, "error": {"type": "MemoryError", "message": "the cell\'s result could not be'
    ' rendered (out of memory); the session goes on", "traceback": ""}}'
)


def run_cell(source: str) -> str:
    """Runs one cell; returns its result as JSON. Never raises: whatever the cell did, the
    session (its globals) goes on."""
    failed = None
    try:
        return _run_cell(source)
    except BaseException as exc:  # noqa: BLE001 - a failure here would end the session
        failed = exc.__class__
    # Out of the except block: the failure's frames (and what they held) are freed.
    try:
        _tic_host.in_cell(False)
        name = failed.__name__ if isinstance(failed.__name__, str) else "Exception"
        message = "the cell's result could not be rendered; the session goes on"
        return _dumps({"ok": False, "error": {"type": name[:100], "message": message, "traceback": ""}})
    except BaseException:  # noqa: BLE001
        return _UNRENDERABLE


def _run_cell(source: str) -> str:
    global _cell_count
    source = _check.strip_options(source)  # the host's per-cell options (check mode)
    if _cell_count == 0:
        _start_session()
    from _tic import aio, threads

    aio.forget_pending()
    threads.forget_pending()
    _cell_count += 1
    filename = f"{_CELL_PREFIX}{_cell_count}>"
    # Register the source so tracebacks can quote the cell's lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    limit = _tic_host.output_limit()
    result: dict = {"ok": True}
    try:
        _tic_host.in_cell(True)
        tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST | _TOP_LEVEL_AWAIT)
        _check.cell(tree, source, _namespace)  # may refuse the cell before anything runs
        body, last = _split_last_expression(tree)
        _execute(compile(body, filename, "exec", _TOP_LEVEL_AWAIT))
        value = None if last is None else _execute(compile(last, filename, "eval", _TOP_LEVEL_AWAIT))
        threads.run_pending()  # the threads the cell started and did not join (threads.py)
        if value is not None:
            builtins._ = value  # like the REPL: `_` is the last value
            # Still in the cell: a slow __repr__ is interrupted by the timeout.
            result["value"] = _render(value, limit)
    except BaseException as exc:  # noqa: BLE001 - everything a cell raises goes back to the host
        _tic_host.in_cell(False)
        result = {"ok": False, "error": _describe(exc, limit)}
    finally:
        _tic_host.in_cell(False)
        _flush()
    return _dumps(result, ensure_ascii=False)


class ToolError(Exception):
    """A tool call the host could not complete; `type` is the host's error type name."""

    def __init__(self, type: str, message: str):
        super().__init__(message)
        self.type = type


class ToolArgumentError(ToolError, TypeError, ValueError):
    """Arguments that break the tool's schema: caught as TypeError or ValueError too."""


class _Default:
    """The default of an SDK parameter the cell did not pass: never sent, so the tool
    applies its own. Its repr is the schema's default, so `help()` shows `limit: int = 30`."""

    __slots__ = ("_text",)

    def __init__(self, text: str):
        self._text = text

    def __repr__(self) -> str:
        return self._text


def default(value) -> _Default:
    """The marker standing for a schema default in a generated signature."""
    return _Default(repr(value))


# A nullable parameter with no default: `None` would be sent as null, so "not given" is this.
NOT_GIVEN = _Default("...")


def _request(tool: str, args: dict, optional: tuple, namespace, op=None) -> dict:
    # Only what the cell passed is sent. For the `optional` keys (whose type has no None),
    # None means "not given" too; elsewhere None is a value and goes as null.
    args = {k: v for k, v in args.items() if type(v) is not _Default and not (v is None and k in optional)}
    request = {"tool": tool, "args": args} if op is None else {"op": op, "tool": tool, "args": args}
    if namespace is not None:
        request["namespace"] = namespace
    return request


def _not_serializable(value):
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _encode(value) -> str:
    """`json.dumps(value, ensure_ascii=False, allow_nan=False)`, compact, through one json C
    encoder made once: dumps builds a JSONEncoder per call, most of a small call's cost."""
    try:
        # The encoder returns its text in pieces: one for a small value, several past about
        # 200 kB (taking only the first sent the host a cut-off request).
        return "".join(_json_encode(value, 0))
    except BaseException:
        _json_markers.clear()  # the circular-reference check's ids of the failed call
        raise


# The C encoder forgets a container's id as it leaves it, except when encoding fails.
_json_markers: dict = {}
_json_encode = _c_encoder(_json_markers, _not_serializable, _c_encode_str, None, ":", ",", False, False, False)


def _decode(reply: bytes):
    """`json.loads` of the host's reply (its own compact JSON) through json's C scanner."""
    text = reply.decode()
    try:
        value, end = _scan(text, 0)
        if end == len(text):
            return value
    except (StopIteration, ValueError):
        pass
    return json.loads(text)  # not the host's usual JSON: json's own parse (and error)


_scan = _c_scanner(json.JSONDecoder())


def _value(reply: dict):
    """The value of a decoded reply, or the exception it stands for."""
    if reply.get("ok"):
        if "content" in reply:  # MCP content blocks: images, audio, resources (see content.py)
            return _decode_content(reply["content"])
        return reply.get("value")
    error = reply.get("error") or {}
    kind = error.get("kind")
    type_ = str(error.get("type", "ToolError"))
    message = str(error.get("message", "tool call failed"))
    if kind == "argument":
        raise ToolArgumentError(type_, message)
    if kind == "timeout":
        raise TimeoutError(message)
    if kind == "cancelled":
        raise KeyboardInterrupt(message)
    raise ToolError(type_, message)


def call(tool: str, args: dict, optional: tuple = (), namespace=None):
    """Calls a host tool by its original name; returns its result as plain Python data."""
    request = _request(tool, args, optional, namespace, "call")
    return _value(_decode(_tic_host.call(_encode(request).encode())))


async def call_async(tool: str, args: dict, optional: tuple = (), namespace=None):
    """The awaitable form of `call`, for the SDK's `aio` variants: the host runs calls
    started together at the same time (see aio.HostSelector)."""
    from _tic import aio

    # Serialized now, once: a value JSON cannot carry fails here, at the call.
    request = _encode(_request(tool, args, optional, namespace))
    return _value(await aio.host_call(request))


def search(tools: list, query: str) -> list:
    """`name: summary` lines of the tools whose name or summary contains every word of `query`."""
    words = query.lower().split()
    hits = []
    for py_name, tool_name, summary in tools:
        text = f"{py_name} {tool_name} {summary}".lower()
        if all(w in text for w in words):
            hits.append(f"{py_name}: {summary}" if summary else py_name)
    return hits
