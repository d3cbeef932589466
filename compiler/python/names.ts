// Python identifiers for tool, parameter and type names: valid, not keywords, not
// shadowing builtins where that would break the SDK, and unique in their scope.

export const PY_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del',
  'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal',
  'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);

/** `dir(builtins)` of CPython 3.11, without the dunder names. */
export const PY_BUILTINS = new Set([
  'ArithmeticError', 'AssertionError', 'AttributeError', 'BaseException', 'BaseExceptionGroup', 'BlockingIOError',
  'BrokenPipeError', 'BufferError', 'BytesWarning', 'ChildProcessError', 'ConnectionAbortedError', 'ConnectionError',
  'ConnectionRefusedError', 'ConnectionResetError', 'DeprecationWarning', 'EOFError', 'Ellipsis', 'EncodingWarning',
  'EnvironmentError', 'Exception', 'ExceptionGroup', 'FileExistsError', 'FileNotFoundError', 'FloatingPointError',
  'FutureWarning', 'GeneratorExit', 'IOError', 'ImportError', 'ImportWarning', 'IndentationError', 'IndexError',
  'InterruptedError', 'IsADirectoryError', 'KeyError', 'KeyboardInterrupt', 'LookupError', 'MemoryError',
  'ModuleNotFoundError', 'NameError', 'NotADirectoryError', 'NotImplemented', 'NotImplementedError', 'OSError',
  'OverflowError', 'PendingDeprecationWarning', 'PermissionError', 'ProcessLookupError', 'RecursionError',
  'ReferenceError', 'ResourceWarning', 'RuntimeError', 'RuntimeWarning', 'StopAsyncIteration', 'StopIteration',
  'SyntaxError', 'SyntaxWarning', 'SystemError', 'SystemExit', 'TabError', 'TimeoutError', 'TypeError',
  'UnboundLocalError', 'UnicodeDecodeError', 'UnicodeEncodeError', 'UnicodeError', 'UnicodeTranslateError',
  'UnicodeWarning', 'UserWarning', 'ValueError', 'Warning', 'ZeroDivisionError', 'abs', 'aiter', 'all', 'anext',
  'any', 'ascii', 'bin', 'bool', 'breakpoint', 'bytearray', 'bytes', 'callable', 'chr', 'classmethod', 'compile',
  'complex', 'copyright', 'credits', 'delattr', 'dict', 'dir', 'divmod', 'enumerate', 'eval', 'exec', 'exit',
  'filter', 'float', 'format', 'frozenset', 'getattr', 'globals', 'hasattr', 'hash', 'help', 'hex', 'id', 'input',
  'int', 'isinstance', 'issubclass', 'iter', 'len', 'license', 'list', 'locals', 'map', 'max', 'memoryview', 'min',
  'next', 'object', 'oct', 'open', 'ord', 'pow', 'print', 'property', 'quit', 'range', 'repr', 'reversed', 'round',
  'set', 'setattr', 'slice', 'sorted', 'staticmethod', 'str', 'sum', 'super', 'tuple', 'type', 'vars', 'zip',
]);

/** What every SDK module offers besides its tools (in its `__all__`). */
export const SDK_EXPORTS = ['aio', 'search_tools', 'ToolError', 'ToolArgumentError', 'Image', 'Audio', 'Resource', 'ResourceLink'] as const;

/** Names the SDK module itself defines or imports; tools and types must not take them. */
export const SDK_RESERVED = new Set<string>([
  'annotations', 'Any', 'Literal', 'NotRequired', 'TypedDict', 'TypeAlias', ...SDK_EXPORTS,
  '_call', '_call_async', '_tic', '_default', '_NOT_GIVEN', '_search',
]);

/** `getUserByID` -> `get_user_by_id`, `list-files` -> `list_files`. */
export function snakeCase(raw: string): string {
  return raw
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** `create-entities item` -> `CreateEntitiesItem`. */
export function pascalCase(raw: string): string {
  const words = raw
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  const joined = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return /^[0-9]/.test(joined) ? `T${joined}` : joined || 'T';
}

/** Any string -> a valid Python identifier (ASCII letters, digits, underscores). */
export function identifier(raw: string, style: 'snake' | 'keep'): string {
  // Accents come off rather than becoming underscores: `naïve` -> `naive`.
  let s = raw.normalize('NFKD').replace(/\p{M}+/gu, '');
  s = style === 'snake' ? snakeCase(s) : s;
  s = s.replace(/[^A-Za-z0-9_]+/g, '_');
  if (style === 'snake') s = s.replace(/_+/g, '_').replace(/^_(?=[a-z])/, '').replace(/(?<=.)_$/, '');
  if (s === '' || s === '_') s = 'x';
  if (/^[0-9]/.test(s)) s = `n${s}`;
  return s;
}

/** Allocates unique names in one Python scope. */
export class NameScope {
  private readonly taken = new Set<string>();

  constructor(
    reserved: Iterable<string> = [],
    private readonly avoidBuiltins = false,
  ) {
    for (const r of reserved) this.taken.add(r);
  }

  /** `base` if free, else `base_`, then `base_2`, `base_3`... Keywords always get `_`. */
  allocate(base: string): string {
    let name = base;
    if (PY_KEYWORDS.has(name) || (this.avoidBuiltins && PY_BUILTINS.has(name))) name = `${name}_`;
    if (this.taken.has(name) && !name.endsWith('_') && !this.taken.has(`${name}_`)) name = `${name}_`;
    if (this.taken.has(name)) {
      const stem = name.endsWith('_') ? name : `${name}_`;
      let i = 2;
      while (this.taken.has(`${stem}${i}`)) i++;
      name = `${stem}${i}`;
    }
    this.taken.add(name);
    return name;
  }

  has(name: string): boolean {
    return this.taken.has(name);
  }

  /** Would `allocate` change this name even while it is free (keyword, builtin)? */
  isUnsafe(name: string): boolean {
    return PY_KEYWORDS.has(name) || (this.avoidBuiltins && PY_BUILTINS.has(name));
  }
}

export function isPythonIdentifier(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !PY_KEYWORDS.has(s);
}
