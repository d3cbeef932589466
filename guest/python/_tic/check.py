"""Pre-flight check of a cell's SDK calls, before any statement of the cell runs.

A model's cell often makes calls with side effects and then a call with a typo. This
module reads the cell's AST and checks every call it can resolve statically to an SDK
function (`tools.x(...)`, `tools.ns.x(...)`, `await tools.aio.x(...)`, through simple
aliases such as `gh = tools.github` or `from tools import x`, in this cell or an earlier
one) against the signature table `tic build` wrote (`/lib/sdk/_tic_check.json`, see
compiler/emit-check.ts):

- an SDK function that does not exist (AttributeError at run time), with the nearest names;
- an unknown keyword, a missing required argument, too many positional arguments, an
  argument given twice (TypeError at run time);
- a literal argument the host's JSON Schema check would refuse (ToolArgumentError): wrong
  JSON type, outside its enum, breaking minimum/maximum, minLength/maxLength, pattern,
  format, a required field of a literal object, ...; a value whose JSON type alone is
  wrong (an f-string for an integer, a comprehension for a string); or one JSON cannot
  carry (a set, a generator);
- `await` on a synchronous SDK function, or one handed to asyncio.gather/run (the call
  runs, then asyncio fails on its result).

The schema verdicts follow ajv 8 with ajv-formats (the host's check): formats with the
same regexes (the table carries them), patterns only where Python's `re` reads them as
JavaScript does; compiler/emit-check.test.ts compares both on 10,000+ strings.

Anything dynamic (a variable, `*args`, `**kwargs`, getattr, a name bound in several ways,
a module attribute the cell assigns) is not checked: the check never refuses a cell that
would have run. Problems are "certain" (the statement fails whenever it runs) or "less
certain" (inside a try that catches the error, in a function the cell never uses, an
`aio` call never awaited, a cell using exec/eval/setattr): in `block` mode (the default)
certain problems refuse the cell with `_tic.CellCheckError` before anything runs, the
others are a `[tooliscode: warning: ...]` line on stderr; in `warn` mode all are
warnings; `off` does nothing.

The mode comes with each cell from the host, as a header the host puts before the source:
NUL "tic:check=MODE" NUL (a NUL byte cannot begin Python source, so no cell has it).
"""

import ast
import builtins
import json
import re
import sys

TABLE_PATH = "/lib/sdk/_tic_check.json"
MODES = ("off", "warn", "block")
MODE = "block"
STRICT = False  # tests: a fault of the check raises instead of skipping the check
_HEADER = "\0tic:"


class CellCheckError(Exception):
    """The cell was refused before it ran: one problem per line of the message."""

    __module__ = "_tic"


# --- the SDK's objects, by identity --------------------------------------------------------

_loaded = False
# id(object) -> (object, kind, info): kind "root" | "module" | "aio" (info: dict of the
# container) or "func" (info: _Func). The objects are held here, so their ids stay theirs.
_known: dict = {}
_all_funcs: list = []  # every _Func, for suggestions across namespaces


class _Func:
    __slots__ = ("name", "qualified", "entry", "is_async", "params", "by_name", "positional", "container")

    def __init__(self, name, qualified, entry, is_async, container):
        self.name = name
        self.qualified = qualified  # tools.github.create_issue (tools.github.aio.x for async)
        self.entry = entry
        self.is_async = is_async
        self.params = entry["params"]  # [py name, key, required, None means not given]
        self.by_name = {p[0]: p for p in self.params}
        self.positional = [p for p in self.params if p[2]]
        self.container = container


def load(path: str = TABLE_PATH) -> None:
    """Reads the table and finds the SDK's objects (at snapshot time, from `_init`)."""
    global _loaded
    _loaded = True
    _known.clear()
    _all_funcs.clear()
    try:
        with open(path, "rb") as f:
            table = json.loads(f.read())
        root = sys.modules.get(table["module"])
        if root is None:
            import importlib

            root = importlib.import_module(table["module"])
    except (OSError, ValueError, KeyError, ImportError):
        return
    _FORMATS.clear()
    _FORMATS.update(_CODE_FORMATS)
    for name, f in table.get("formats", {}).items():
        _FORMATS.setdefault(name, _format_regex(f))
    module = table["module"]
    namespaced = "" not in table["modules"]
    if namespaced:
        _known[id(root)] = (root, "root", {"path": module})
    for ns, functions in table["modules"].items():
        mod = getattr(root, ns) if ns else root
        path = f"{module}.{ns}" if ns else module
        _known[id(mod)] = (mod, "module", {"path": path})
        aio = getattr(mod, "aio", None)
        if aio is not None:
            _known[id(aio)] = (aio, "aio", {"path": path + ".aio"})
        for name, entry in functions.items():
            for obj, is_async, prefix in ((getattr(mod, name, None), False, path), (getattr(aio, name, None), True, path + ".aio")):
                if obj is None:
                    continue
                fn = _Func(name, f"{prefix}.{name}", entry, is_async, mod)
                _known[id(obj)] = (obj, "func", fn)
                _all_funcs.append(fn)


def _lookup(obj):
    hit = _known.get(id(obj))
    return hit if hit is not None and hit[0] is obj else None


# --- the mode, from the cell's header ------------------------------------------------------


def strip_options(source: str) -> str:
    """Takes the host's header off the source and sets MODE from it (default block)."""
    global MODE
    MODE = "block"
    if source.startswith(_HEADER):
        end = source.find("\0", len(_HEADER))
        if end != -1:
            for item in source[len(_HEADER) : end].split(","):
                key, _, value = item.partition("=")
                if key == "check" and value in MODES:
                    MODE = value
            source = source[end + 1 :]
    return source


# --- the scan: one walk over the cell ------------------------------------------------------

# Names that let a cell rebind anything behind the AST's back: their presence makes every
# problem "less certain".
_DYNAMIC_NAMES = frozenset(("exec", "eval", "globals", "locals", "vars", "setattr", "delattr", "__import__", "compile"))
_DYNAMIC_ATTRS = frozenset(("__dict__", "modules", "reload", "import_module"))
_CLASS = "<class>"  # a scope marker: a method runs only if the class is used, we do not follow
# asyncio functions whose positional arguments must be awaitables (a dict fails them).
_ASYNCIO_TAKES = frozenset(("gather", "run", "create_task", "ensure_future", "wait_for", "shield"))


class _Binding:
    __slots__ = ("kind", "node", "extra")

    def __init__(self, kind, node, extra=None):
        self.kind = kind  # "alias" (name = expr), "import", "from" or "other"
        self.node = node
        self.extra = extra


class _Scan:
    def __init__(self):
        self.bindings: dict = {}  # name -> [_Binding]
        self.loaded: set = set()  # names read anywhere (a def is "used" if its name is)
        self.calls: list = []  # (Call node, defs, caught)
        self.attrs: list = []  # (Attribute node, defs, caught), loads
        self.stores: list = []  # Attribute nodes assigned or deleted
        self.awaited: set = set()  # id(Call) directly under Await
        self.statements: set = set()  # id(Call) that is a whole expression statement
        self.coroutine_args: dict = {}  # id(Call) -> "asyncio.gather", for calls handed to asyncio as awaitables
        self.dynamic = False

    def bind(self, name, kind="other", node=None, extra=None):
        self.bindings.setdefault(name, []).append(_Binding(kind, node, extra))

    def walk(self, node, defs, caught):
        t = type(node)
        if t is ast.Name:
            if type(node.ctx) is ast.Load:
                self.loaded.add(node.id)
                if node.id in _DYNAMIC_NAMES:
                    self.dynamic = True
            else:
                self.bind(node.id)
            return
        if t is ast.Attribute:
            if type(node.ctx) is ast.Load:
                self.attrs.append((node, defs, caught))
                if node.attr in _DYNAMIC_ATTRS:
                    self.dynamic = True
            else:
                self.stores.append(node)
            self.walk(node.value, defs, caught)
            return
        if t is ast.Call:
            self.calls.append((node, defs, caught))
            f = node.func
            if type(f) is ast.Attribute and f.attr in _ASYNCIO_TAKES and type(f.value) is ast.Name and f.value.id == "asyncio":
                for a in node.args:
                    if type(a) is ast.Call:
                        self.coroutine_args[id(a)] = f"asyncio.{f.attr}"
        elif t is ast.Await:
            if type(node.value) is ast.Call:
                self.awaited.add(id(node.value))
        elif t is ast.Expr:
            if type(node.value) is ast.Call:
                self.statements.add(id(node.value))
        elif t is ast.Assign or t is ast.AnnAssign:
            targets = node.targets if t is ast.Assign else [node.target]
            if len(targets) == 1 and type(targets[0]) is ast.Name and node.value is not None and not defs:
                self.bind(targets[0].id, "alias", node.value)
                if t is ast.AnnAssign:
                    self.walk(node.annotation, defs, caught)
                self.walk(node.value, defs, caught)
                return
            if t is ast.AnnAssign and defs:
                # A local variable's annotation is never evaluated.
                for child in (node.target, node.value):
                    if child is not None:
                        self.walk(child, defs, caught)
                return
        elif t is ast.Import:
            for a in node.names:
                if a.asname:
                    self.bind(a.asname, "import", extra=a.name if not defs else None)
                else:
                    top = a.name.partition(".")[0]
                    self.bind(top, "import", extra=top if not defs else None)
            return
        elif t is ast.ImportFrom:
            for a in node.names:
                name = a.asname or a.name
                self.bind(name, "from" if not defs and node.level == 0 and a.name != "*" else "other", node, (a.name, caught))
            if any(a.name == "*" for a in node.names):
                self.dynamic = True
            return
        elif t is ast.FunctionDef or t is ast.AsyncFunctionDef:
            self.bind(node.name)
            for d in node.decorator_list:
                self.walk(d, defs, caught)
            self._arguments(node.args, defs, caught)
            if node.returns is not None:
                self.walk(node.returns, defs, caught)
            inner = defs + (node.name,)
            for s in node.body:
                self.walk(s, inner, caught)
            return
        elif t is ast.Lambda:
            self._arguments(node.args, defs, caught)
            self.walk(node.body, defs, caught)
            return
        elif t is ast.ClassDef:
            self.bind(node.name)
            for d in node.decorator_list + node.bases + [k.value for k in node.keywords]:
                self.walk(d, defs, caught)
            inner = defs + (_CLASS,)
            for s in node.body:
                self.walk(s, inner, caught)
            return
        elif t is ast.Try or t is getattr(ast, "TryStar", None):
            body_caught = caught or any(_catches(h.type) for h in node.handlers)
            for s in node.body:
                self.walk(s, defs, body_caught)
            for h in node.handlers:
                if h.name:
                    self.bind(h.name)
                if h.type is not None:
                    self.walk(h.type, defs, caught)
                for s in h.body:
                    self.walk(s, defs, caught)
            for s in node.orelse + node.finalbody:
                self.walk(s, defs, caught)
            return
        elif t is ast.With or t is ast.AsyncWith:
            suppress = any(_suppresses(i.context_expr) for i in node.items)
            for i in node.items:
                self.walk(i.context_expr, defs, caught)
                if i.optional_vars is not None:
                    self.walk(i.optional_vars, defs, caught)
            for s in node.body:
                self.walk(s, defs, caught or suppress)
            return
        elif t is ast.If or t is ast.While or t is ast.IfExp or t is ast.BoolOp or t is ast.Assert:
            # `if hasattr(tools, "x"): tools.x()`: what the test looks up may be missing.
            parts = node.values if t is ast.BoolOp else [node.test]
            # `if False:` is dead code, a test of an attribute's existence guards it.
            dead = t is not ast.BoolOp and type(node.test) is ast.Constant and not node.test.value
            guarded = caught or dead or any(_guards(p) for p in parts)
            for child in ast.iter_child_nodes(node):
                self.walk(child, defs, guarded)
            return
        elif t is ast.MatchAs or t is ast.MatchStar:
            if node.name:
                self.bind(node.name)
        elif t is ast.MatchMapping:
            if node.rest:
                self.bind(node.rest)
        elif t is ast.Global or t is ast.Nonlocal:
            for n in node.names:
                self.bind(n)
            return
        for child in ast.iter_child_nodes(node):
            self.walk(child, defs, caught)

    def _arguments(self, args, defs, caught):
        for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
            if a is not None:
                self.bind(a.arg)
                if a.annotation is not None:
                    self.walk(a.annotation, defs, caught)
        for d in args.defaults + [d for d in args.kw_defaults if d is not None]:
            self.walk(d, defs, caught)


def _catches(handler_type) -> bool:
    """Whether an `except` clause may catch what a bad call raises (TypeError, ValueError,
    AttributeError, ImportError, ToolArgumentError): anything not surely unrelated does."""
    if handler_type is None:
        return True
    names = handler_type.elts if type(handler_type) is ast.Tuple else [handler_type]
    for n in names:
        if type(n) is not ast.Name:
            return True  # tools.ToolError, json.JSONDecodeError, ...: not followed
        cls = getattr(builtins, n.id, None)
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            return True
        if any(issubclass(err, cls) for err in (TypeError, ValueError, AttributeError, ImportError)):
            return True
    return False


_GUARDS = frozenset(("hasattr", "getattr", "dir", "vars", "callable"))


def _guards(test) -> bool:
    """A condition that asks whether an attribute exists."""
    for n in ast.walk(test):
        if type(n) is ast.Call and type(n.func) is ast.Name and n.func.id in _GUARDS:
            return True
    return False


def _suppresses(expr) -> bool:
    """`with suppress(TypeError):`, `with pytest.raises(ValueError):`: a context that may swallow the error."""
    if type(expr) is not ast.Call:
        return False
    f = expr.func
    name = f.id if type(f) is ast.Name else f.attr if type(f) is ast.Attribute else None
    if name == "suppress":
        return True
    return any(_catches(a) for a in expr.args if type(a) in (ast.Name, ast.Tuple))


# --- resolving expressions to SDK objects --------------------------------------------------


class _Missing:
    """An attribute the SDK container does not have."""

    __slots__ = ("container", "attr")

    def __init__(self, container, attr):
        self.container = container
        self.attr = attr


class _Resolver:
    def __init__(self, scan: _Scan, namespace: dict):
        self.scan = scan
        self.ns = namespace
        self.aliases: dict = {}
        self.patched: set = set()

    def name(self, name):
        bindings = self.scan.bindings.get(name)
        if bindings is None:
            obj = self.ns.get(name)
            return obj if obj is not None and _lookup(obj) is not None else None
        if name in self.aliases:
            return self.aliases[name]
        self.aliases[name] = None  # a cycle resolves to nothing
        found = None
        for b in bindings:
            obj = self.binding(b)
            if obj is None or isinstance(obj, _Missing) or (found is not None and obj is not found):
                found = None
                break
            found = obj
        # Bound in the cell but holding something else until then (an earlier cell's value): a
        # use before the binding would see that, so the name is not followed.
        if found is not None and name in self.ns and self.ns[name] is not found:
            found = None
        self.aliases[name] = found
        return found

    def binding(self, b):
        if b.kind == "alias":
            return self.expr(b.node)
        if b.kind == "import":
            obj = sys.modules.get(b.extra) if b.extra else None
            return obj if obj is not None and _lookup(obj) is not None else None
        if b.kind == "from":
            mod = sys.modules.get(b.node.module or "")
            hit = _lookup(mod) if mod is not None else None
            if hit is None or hit[1] == "func":
                return None
            return self.attribute(mod, b.extra[0])
        return None

    def attribute(self, container, attr):
        if id(container) in self.patched:
            return None
        try:
            obj = getattr(container, attr)
        except AttributeError:
            return _Missing(container, attr)
        return obj if _lookup(obj) is not None else None

    def expr(self, node):
        t = type(node)
        if t is ast.Name:
            return self.name(node.id)
        if t is ast.Attribute:
            base = self.expr(node.value)
            if base is None or isinstance(base, _Missing):
                return None
            hit = _lookup(base)
            if hit is None or hit[1] == "func":
                return None
            return self.attribute(base, node.attr)
        return None


# --- literal arguments as the JSON the SDK would send --------------------------------------


class _NotJson:
    """A literal `json.dumps` refuses (a set, bytes, ...): the call fails before it is sent."""

    __slots__ = ("what",)

    def __init__(self, what):
        self.what = what


_DYNAMIC = object()  # not a literal


class _Typed:
    """A value whose JSON type is certain though its value is not (an f-string, a list comprehension)."""

    __slots__ = ("jtype",)

    def __init__(self, jtype):
        self.jtype = jtype


_TYPED = {ast.JoinedStr: "string", ast.ListComp: "array", ast.DictComp: "object"}
_NOT_JSON = {ast.Set: "a set", ast.SetComp: "a set", ast.GeneratorExp: "a generator", ast.Lambda: "a function"}


def _literal(node):
    t = type(node)
    if t is ast.Constant:
        v = node.value
        if v is None or type(v) in (bool, int, str):
            return v
        if type(v) is float:
            return v if v == v and v not in (float("inf"), float("-inf")) else _NotJson("an infinite float")
        return _NotJson({bytes: "bytes", complex: "a complex number"}.get(type(v), "..." if v is ... else type(v).__name__))
    if t is ast.UnaryOp and type(node.op) in (ast.USub, ast.UAdd) and type(node.operand) is ast.Constant:
        v = node.operand.value
        if type(v) in (int, float):
            return _literal(ast.Constant(-v if type(node.op) is ast.USub else v))
        return _DYNAMIC
    if t is ast.List or t is ast.Tuple:
        out = []
        dynamic = False
        for e in node.elts:
            if type(e) is ast.Starred:
                dynamic = True
                continue
            v = _literal(e)
            if isinstance(v, _NotJson):
                return v
            if v is _DYNAMIC or isinstance(v, _Typed):
                dynamic = True
            out.append(v)
        return _Typed("array") if dynamic else out
    if t is ast.Dict:
        out = {}
        dynamic = False
        for k, e in zip(node.keys, node.values):
            v = _literal(e)
            if isinstance(v, _NotJson):
                return v
            key = _literal(k) if k is not None else _DYNAMIC
            if v is _DYNAMIC or isinstance(v, _Typed) or key is _DYNAMIC or isinstance(key, (_NotJson, _Typed)):
                dynamic = True
                continue
            # json.dumps writes these keys as strings; anything else (a tuple) it refuses.
            if type(key) is bool:
                key = "true" if key else "false"
            elif key is None:
                key = "null"
            elif type(key) in (int, float):
                key = json.dumps(key)
            elif type(key) is not str:
                return _NotJson(f"a {type(key).__name__} key")
            out[key] = v
        return _Typed("object") if dynamic else out
    if t in _NOT_JSON:
        return _NotJson(_NOT_JSON[t])
    if t in _TYPED:
        return _Typed(_TYPED[t])
    return _DYNAMIC


# --- JSON Schema, the subset whose verdict is certain ---------------------------------------
# Each function returns a sentence for a value the host's ajv would certainly refuse, or
# None (valid, or not sure). Semantics follow ajv 8 with ajv-formats (full mode).


def _jtype(v) -> str:
    if v is None:
        return "null"
    t = type(v)
    if t is bool:
        return "boolean"
    if t is int:
        return "integer"
    if t is float:
        return "integer" if v.is_integer() else "number"
    if t is str:
        return "string"
    if t is list:
        return "array"
    return "object"


def _is_num(v) -> bool:
    return type(v) in (int, float)


def _jeq(a, b) -> bool:
    """JSON equality as ajv sees it (JavaScript numbers: 1 == 1.0, True != 1)."""
    if _is_num(a) and _is_num(b):
        try:
            return float(a) == float(b)
        except OverflowError:
            return a == b
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(_jeq(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_jeq(a[k], b[k]) for k in a)
    return a == b


def _show(v) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _num(v):
    try:
        return float(v)
    except OverflowError:
        return None


def _pointer(root, ref):
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    node = root
    for part in ref[1:].split("/")[1:] if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        try:
            part = re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), part)
        except ValueError:
            return None
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _validate(v, schema, root, where, depth=0):
    if depth > 40 or not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        target = _pointer(root, schema["$ref"])
        return _validate(v, target, root, where, depth + 1) if isinstance(target, dict) else None
    if isinstance(v, _Typed):
        return _validate_type_only(v.jtype, schema, root, where, depth)
    if v is None and schema.get("nullable") is True:
        return None
    jt = _jtype(v)
    types = schema.get("type")
    if isinstance(types, str):
        types = [types]
    if isinstance(types, list) and types and all(isinstance(x, str) for x in types):
        if jt not in types and not (jt == "integer" and "number" in types):
            return f"{where} must be {' or '.join(types)}, not {jt} {_show(v)}"
    if "const" in schema and not _jeq(v, schema["const"]):
        return f"{where} must be {_show(schema['const'])}, not {_show(v)}"
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and not any(_jeq(v, e) for e in enum):
        choices = ", ".join(_show(e) for e in enum[:20]) + (", ..." if len(enum) > 20 else "")
        hint = ""
        if type(v) is str:
            near = _nearest(v, [e for e in enum if type(e) is str])
            if near:
                hint = f"; did you mean {near[0]!r}?"
        return f"{where} must be one of {choices}, not {_show(v)}{hint}"
    if _is_num(v) and type(v) is not bool:
        problem = _numeric(v, schema, where)
        if problem:
            return problem
    elif type(v) is str:
        problem = _string(v, schema, where)
        if problem:
            return problem
    elif type(v) is list:
        n = len(v)
        lo, hi = schema.get("minItems"), schema.get("maxItems")
        if _is_num(lo) and n < lo:
            return f"{where} must have at least {lo:g} item(s), not {n}"
        if _is_num(hi) and n > hi:
            return f"{where} must have at most {hi:g} item(s), not {n}"
        items = schema.get("items")
        if isinstance(items, dict) and "prefixItems" not in schema:
            for i, e in enumerate(v):
                problem = _validate(e, items, root, f"{where}[{i}]", depth + 1)
                if problem:
                    return problem
    elif type(v) is dict:
        required = schema.get("required")
        if isinstance(required, list):
            missing = [k for k in required if isinstance(k, str) and k not in v]
            if missing:
                return f"{where} is missing required field(s) {', '.join(repr(k) for k in missing)}"
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        for k, e in v.items():
            if k in props:
                problem = _validate(e, props[k], root, f"{where}[{k!r}]", depth + 1)
                if problem:
                    return problem
        if schema.get("additionalProperties") is False and "patternProperties" not in schema:
            extra = [k for k in v if k not in props]
            if extra:
                near = _nearest(extra[0], list(props))
                hint = f"; did you mean {near[0]!r}?" if near else ""
                return f"{where} has unexpected field {extra[0]!r} (fields: {', '.join(repr(k) for k in props)}){hint}"
        lo, hi = schema.get("minProperties"), schema.get("maxProperties")
        if _is_num(lo) and len(v) < lo:
            return f"{where} must have at least {lo:g} field(s)"
        if _is_num(hi) and len(v) > hi:
            return f"{where} must have at most {hi:g} field(s)"
    return _combined(schema, where, lambda sub: _validate(v, sub, root, where, depth + 1))


def _type_error(jt, schema):
    types = schema.get("type")
    if isinstance(types, str):
        types = [types]
    if isinstance(types, list) and types and all(isinstance(x, str) for x in types):
        if jt not in types and not (jt == "integer" and "number" in types):
            return " or ".join(types)
    return None


def _validate_type_only(jt, schema, root, where, depth):
    """For a value known only by its JSON type: the checks that need nothing else."""
    if depth > 40 or not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        target = _pointer(root, schema["$ref"])
        return _validate_type_only(jt, target, root, where, depth + 1) if isinstance(target, dict) else None
    what = {"string": "a string", "array": "a list", "object": "a dict"}[jt]
    expected = _type_error(jt, schema)
    if expected:
        return f"{where} must be {expected}, not {what}"
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and all(_jtype(e) != jt for e in enum):
        return f"{where} must be one of {', '.join(_show(e) for e in enum[:20])}, not {what}"
    if "const" in schema and _jtype(schema["const"]) != jt:
        return f"{where} must be {_show(schema['const'])}, not {what}"
    return _combined(schema, where, lambda sub: _validate_type_only(jt, sub, root, where, depth + 1))


def _combined(schema, where, check):
    """allOf, anyOf, oneOf with `check` (a subschema -> its problem or None): allOf fails on
    any branch's problem, anyOf and oneOf only when every branch has one."""
    all_of = schema.get("allOf")
    if isinstance(all_of, list):
        for sub in all_of:
            problem = check(sub)
            if problem:
                return problem
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            problems = [check(sub) for sub in branches]
            if all(problems):
                return problems[0] if len(problems) == 1 else f"{where} matches none of its {len(problems)} alternatives ({problems[0]}; ...)"
    return None


def _numeric(v, schema, where):
    x = _num(v)
    if x is None:
        return None
    for key, bad, word in (
        ("minimum", lambda x, b: x < b, ">="),
        ("maximum", lambda x, b: x > b, "<="),
        ("exclusiveMinimum", lambda x, b: x <= b, ">"),
        ("exclusiveMaximum", lambda x, b: x >= b, "<"),
    ):
        b = schema.get(key)
        if _is_num(b) and type(b) is not bool and bad(x, float(b)):
            return f"{where} must be {word} {b:g}, not {_show(v)}"
    m = schema.get("multipleOf")
    if type(m) is int and m > 0 and type(v) is int and abs(v) < 2**31 and m < 2**20 and v % m:
        return f"{where} must be a multiple of {m}, not {v}"
    return None


def _string(v, schema, where):
    n = len(v)
    lo, hi = schema.get("minLength"), schema.get("maxLength")
    if _is_num(lo) and n < lo:
        return f"{where} must be at least {lo:g} character(s) long, not {n} ({_show(v)})"
    if _is_num(hi) and n > hi:
        return f"{where} must be at most {hi:g} character(s) long, not {n}"
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and v.isascii():
        rx = _pattern(pattern)
        if rx is not None and rx.search(v) is None:
            return f"{where} must match the pattern {pattern!r}, not {_show(v)}"
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS and not _FORMATS[fmt](v):
        return f"{where} must be a valid {fmt}, not {_show(v)}"
    return None


_patterns: dict = {}
# JavaScript regex syntax Python reads differently (or not at all): not checked.
_UNSURE_PATTERN = re.compile(r"\\[pPkcu]|\(\?<[A-Za-z]|\(\?[^:=!<]|\[\^?\]|\\[0-9]")


def _pattern(pattern):
    if pattern not in _patterns:
        rx = None
        if not _UNSURE_PATTERN.search(pattern):
            try:
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # "possible nested set" and the like: not the cell's stderr
                    # ASCII: \d \w \b \s as JavaScript reads them (the value is ASCII too).
                    rx = re.compile(pattern, re.ASCII)
            except (re.error, RecursionError, OverflowError, ValueError):
                rx = None
        _patterns[pattern] = rx
    return _patterns[pattern]


# ajv-formats (full mode), ported: the same regexes, with JavaScript's \d and \s spelled out.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_TIME = re.compile(r"^([0-9]{2}):([0-9]{2}):([0-9]{2}(?:\.[0-9]+)?)(z|([+-])([0-9]{2})(?::?([0-9]{2}))?)?\Z", re.I | re.A)
_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _date(s):
    m = _DATE.match(s)
    if not m:
        return False
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return 1 <= mo <= 12 and 1 <= d <= (29 if mo == 2 and leap else _DAYS[mo])


def _time(s):
    m = _TIME.match(s)
    if not m:
        return False
    hr, mi, sec = int(m.group(1)), int(m.group(2)), float(m.group(3))
    tz = m.group(4)
    sign = -1 if m.group(5) == "-" else 1
    tz_h, tz_m = int(m.group(6) or 0), int(m.group(7) or 0)
    if tz_h > 23 or tz_m > 59 or not tz:
        return False
    if hr <= 23 and mi <= 59 and sec < 60:
        return True
    utc_m = mi - tz_m * sign
    utc_h = hr - tz_h * sign - (1 if utc_m < 0 else 0)
    return utc_h in (23, -1) and utc_m in (59, -1) and sec < 61


_DT_SPLIT = re.compile("[tT" + _JS_SPACE + "]")


def _date_time(s):
    parts = _DT_SPLIT.split(s)
    return len(parts) == 2 and _date(parts[0]) and _time(parts[1])


def _format_regex(f):
    """A format the table gives as ajv-formats' own regex (JavaScript, no `u` flag): with
    re.ASCII, Python reads it as JavaScript does (\\d, \\w, case folding); where they could
    differ, Python's `$` also matches before a final newline, which only lets more through."""
    try:
        flags = re.A | (re.I if "i" in f.get("flags", "") else 0)
        rx = re.compile(f["source"], flags)
        also = re.compile(f["also"]) if f.get("also") else None
    except (re.error, KeyError, TypeError, RecursionError, OverflowError):
        return lambda s: True
    return lambda s: rx.search(s) is not None and (also is None or also.search(s) is not None)


# Formats ajv-formats checks with code, ported; the regex ones come with the table (load()).
_CODE_FORMATS = {"date": _date, "time": _time, "date-time": _date_time}
_FORMATS: dict = dict(_CODE_FORMATS)


# --- the check -----------------------------------------------------------------------------


def _nearest(word, candidates, n=3):
    import difflib  # only for a refused name: not preloaded, the snapshot is smaller without it

    near = difflib.get_close_matches(word, candidates, n=n, cutoff=0.6)
    if not near:
        lower = {c.lower(): c for c in candidates}
        if word.lower() in lower:
            near = [lower[word.lower()]]
    return near


class _Problem:
    __slots__ = ("line", "col", "text", "certain")

    def __init__(self, line, col, text, certain):
        self.line, self.col, self.text, self.certain = line, col, text, certain

    def __str__(self):
        return f"line {self.line}, col {self.col}: {self.text}"


class _Checker:
    def __init__(self, tree, source, namespace):
        self.source = source
        self.lines = None
        self.scan = _Scan()
        for stmt in tree.body:
            self.scan.walk(stmt, (), False)
        self.resolve = _Resolver(self.scan, namespace)
        self.problems: list = []
        # Module attributes the cell assigns (`tools.x = wrapper`): not the SDK's any more.
        for node in self.scan.stores:
            base = self.resolve.expr(node.value)
            if base is not None and not isinstance(base, _Missing) and _lookup(base)[1] != "func":
                self.resolve.patched.add(id(base))
        self.resolve.aliases.clear()
        # `state = "opened"` as a statement of the cell's top level, the name's only binding:
        # a use after it (by position) sees that value. Immutable values only.
        self.constants = {}
        for stmt in tree.body:
            if type(stmt) is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:
                name = stmt.targets[0].id
                v = _literal(stmt.value)
                if (v is None or type(v) in (str, int, float, bool)) and len(self.scan.bindings.get(name, ())) == 1:
                    self.constants[name] = (stmt, v)
        # A function the cell defines runs only if the cell uses its name (a decorator alone may not call it).
        used = self.scan.loaded
        self.certain_in = lambda defs, caught: not (caught or self.scan.dynamic or any(d not in used for d in defs))

    def col(self, node, offset=None):
        """1-based column in characters (the AST counts UTF-8 bytes)."""
        offset = node.col_offset if offset is None else offset
        if self.lines is None:
            self.lines = self.source.split("\n")  # the tokenizer's lines (splitlines() has more breaks)
        try:
            line = self.lines[node.lineno - 1]
        except IndexError:
            return offset + 1
        return len(line.encode("utf-8")[:offset].decode("utf-8", "replace")) + 1

    def add(self, node, text, certain, offset=None):
        self.problems.append(_Problem(node.lineno, self.col(node, offset), text, certain))

    def run(self):
        seen = set()
        for node, defs, caught in self.scan.attrs:
            obj = self.resolve.expr(node)
            if isinstance(obj, _Missing) and id(node) not in seen:
                offset = node.end_col_offset - len(node.attr) if node.end_lineno == node.lineno else None
                self.add(node, self.missing(obj), self.certain_in(defs, caught), offset)
        for b in (b for bs in self.scan.bindings.values() for b in bs if b.kind == "from"):
            obj = self.resolve.binding(b)
            if isinstance(obj, _Missing):
                self.add(b.node, "import: " + self.missing(obj), self.certain_in((), b.extra[1]))
        for node, defs, caught in self.scan.calls:
            obj = self.resolve.expr(node.func)
            hit = _lookup(obj) if obj is not None and not isinstance(obj, _Missing) else None
            if hit is not None and hit[1] == "func":
                self.call(node, hit[2], self.certain_in(defs, caught))
        self.problems.sort(key=lambda p: (p.line, p.col))
        return self.problems

    def missing(self, m: _Missing) -> str:
        hit = _lookup(m.container)
        path = hit[2]["path"]
        names = [f.name for f in _all_funcs if f.qualified == f"{path}.{f.name}"]
        if hit[1] == "root":
            names += [n for n in dir(m.container) if _lookup(getattr(m.container, n, None)) is not None]
        near = _nearest(m.attr, names)
        # The same name in another namespace: `tools.create_issue` for `tools.github.create_issue`.
        elsewhere = [f.qualified for f in _all_funcs if f.name == m.attr and f.is_async == (hit[1] == "aio")][:3]
        if m.attr == "aio" and hit[1] == "root":
            elsewhere = [i[2]["path"] for i in _known.values() if i[1] == "aio"][:3]
        text = f"{path}.{m.attr}: {path} has no function {m.attr!r}"
        if near or elsewhere:
            text += "; did you mean " + " or ".join(elsewhere or [f"{path}.{n}" for n in near]) + "?"
        sig = None
        for f in _all_funcs:
            if (elsewhere and f.qualified == elsewhere[0]) or (not elsewhere and near and f.qualified == f"{path}.{near[0]}"):
                sig = _signature(f)
                break
        return text + (f"; signature: {sig}" if sig else "")

    def call(self, node, fn: _Func, certain):
        where = f"{_short(node.func)}()"
        sig = _signature(fn)
        found = []  # (node, text, certain)
        if not fn.is_async and id(node) in self.scan.awaited:
            found.append((node, f"{fn.qualified} is not async: `await` fails after the tool has run; use `await {fn.qualified.rsplit('.', 1)[0]}.aio.{fn.name}(...)` or call it without await", certain))
        taker = self.scan.coroutine_args.get(id(node))
        plain = all(b.kind == "import" and b.extra == "asyncio" for b in self.scan.bindings.get("asyncio", ()))
        if not fn.is_async and taker and plain:
            found.append((node, f"{fn.qualified} is not async: it runs at once and {taker}() then fails on its result; use `{fn.qualified.rsplit('.', 1)[0]}.aio.{fn.name}(...)`", certain))
        if fn.is_async and id(node) in self.scan.statements:
            found.append((node, f"{fn.qualified}(...) is never awaited, so the tool is not called; write `await {_short(node.func)}(...)`", False))
        starred = any(type(a) is ast.Starred for a in node.args)
        keywords = _keywords(node.keywords)
        spread = any(k.arg is None for k in keywords)
        bound = {}  # python name -> argument node
        if not starred:
            if len(node.args) > len(fn.positional):
                n, m = len(fn.positional), len(node.args)
                kw_only = [p[0] for p in fn.params if not p[2]]
                hint = f" (the optional parameters are keyword-only: {', '.join(kw_only[:6])}{', ...' if len(kw_only) > 6 else ''})" if kw_only else ""
                found.append((node.args[n], f"{where}: takes {n} positional argument{'s' if n != 1 else ''} but {m} were given{hint}", certain))
            for p, a in zip(fn.positional, node.args):
                bound[p[0]] = a
        unknown = []  # (keyword node, suggested parameter or None)
        for k in keywords:
            if k.arg is None:
                continue
            if k.arg in fn.by_name:
                if k.arg in bound:
                    found.append((k, f"{where}: got multiple values for argument {k.arg!r}", certain))
                bound[k.arg] = k.value
            elif not fn.entry.get("extra"):
                near = [p[0] for p in fn.params if p[1] == k.arg] or _nearest(k.arg, [n for n in fn.by_name if n not in bound])
                unknown.append((k, near[0] if near else None))
        missing = [p[0] for p in fn.positional if p[0] not in bound] if not starred and not spread else []
        for k, near in unknown:
            hint = f" (did you mean {near!r}?{' it is required' if near in missing else ''})" if near else ""
            found.append((k, f"{where}: unknown keyword argument {k.arg!r}{hint}", certain))
        # A misspelt required argument is said once, as the unknown keyword above.
        missing = [m for m in missing if m not in {near for _, near in unknown}]
        if missing:
            found.append((node, f"{where}: missing required argument{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}", certain))
        schema = fn.entry.get("schema")
        props = schema.get("properties") if isinstance(schema, dict) else None
        for name, arg in bound.items():
            p = fn.by_name[name]
            v = _literal(arg)
            if v is _DYNAMIC and type(arg) is ast.Name and arg.id in self.constants:
                stmt, value = self.constants[arg.id]
                if (stmt.end_lineno, stmt.end_col_offset) <= (arg.lineno, arg.col_offset):
                    v = value
            if v is _DYNAMIC:
                continue
            if isinstance(v, _NotJson):
                found.append((arg, f"{where}: argument {name!r} is {v.what}, which JSON cannot carry (use a list, str or dict)", certain))
                continue
            if v is None and p[3]:
                continue  # None for an optional parameter: not sent
            if isinstance(props, dict) and p[1] in props:
                problem = _validate(v, props[p[1]], schema, f"argument {name!r}")
                if problem:
                    found.append((arg, f"{where}: {problem}", certain))
        for at, text, sure in found:
            self.add(at, f"{text}; signature: {sig}", sure)


def _keywords(keywords):
    """The keywords of a call, a literal `**{"key": value}` spread read as keywords."""
    out = []
    for k in keywords:
        d = k.value
        if k.arg is None and type(d) is ast.Dict and all(type(key) is ast.Constant and type(key.value) is str and key.value.isidentifier() for key in d.keys):
            for key, value in zip(d.keys, d.values):
                kw = ast.keyword(arg=key.value, value=value)
                ast.copy_location(kw, key)
                out.append(kw)
        else:
            out.append(k)
    return out


def _signature(fn: _Func) -> str:
    """The signature as the prompt shows it; `await tools.aio.x(...)` for the async variant."""
    sig = fn.entry["signature"]
    if fn.is_async:
        sig = sig.replace(fn.qualified.replace(".aio.", ".", 1) + "(", "await " + fn.qualified + "(", 1)
    return sig


def _short(node) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - only for a message
        return "call"
    return text if len(text) <= 60 else text[:57] + "..."


def check(tree, source: str, namespace: dict) -> list:
    """Every problem found in the cell (see the module's docstring), in source order."""
    if MODE == "off":
        return []
    if not _loaded:
        load()
    if not _known:
        return []
    try:
        return _Checker(tree, source, namespace).run()
    except Exception:  # noqa: BLE001 - a fault of the check (a cell nested too deep, say) never stops a cell
        if STRICT:
            raise
        return []


def cell(tree, source: str, namespace: dict) -> None:
    """Checks a parsed cell before it runs: raises CellCheckError for certain problems in
    block mode; writes the others to stderr as warnings."""
    problems = check(tree, source, namespace)
    if not problems:
        return
    blocking = [p for p in problems if p.certain] if MODE == "block" else []
    if blocking:
        n = len(blocking)
        head = f"the cell was not run: {n} problem{'s' if n > 1 else ''} found before it ran (no statement ran, no tool was called)"
        raise CellCheckError("\n".join([head] + [str(p) for p in blocking]))
    for p in problems:
        print(f"[tooliscode: warning: {p}]", file=sys.stderr)
