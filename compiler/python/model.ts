// A small typed model of Python type expressions and definitions, printed by one
// printer. Types are built as data and printed once, never concatenated as strings.

export type Literal = string | number | boolean | null;

export type PyType =
  | { kind: 'any' }
  | { kind: 'none' }
  | { kind: 'name'; name: 'str' | 'int' | 'float' | 'bool' | 'object' }
  | { kind: 'literal'; values: Literal[] }
  | { kind: 'list'; item: PyType }
  | { kind: 'dict'; value: PyType }
  | { kind: 'union'; members: PyType[] }
  /** A named definition of the module (TypedDict or alias), by its Python name. */
  | { kind: 'ref'; name: string };

export interface TypedDictField {
  /** The JSON key, exactly (may not be an identifier). */
  key: string;
  type: PyType;
  required: boolean;
  description?: string;
  /** The schema's checks in a few words (`1..7`, `pattern ^[a-z]+$`), for docs and the prompt. */
  constraints?: string;
}

export type Definition =
  | { kind: 'typeddict'; name: string; description?: string; fields: TypedDictField[] }
  | { kind: 'alias'; name: string; type: PyType };

export const ANY: PyType = { kind: 'any' };
export const NONE: PyType = { kind: 'none' };
export const named = (name: 'str' | 'int' | 'float' | 'bool' | 'object'): PyType => ({ kind: 'name', name });

/** A union, flattened and de-duplicated; `Any` absorbs everything; one member is itself. */
export function union(members: PyType[]): PyType {
  const flat: PyType[] = [];
  const literals: Literal[] = [];
  const push = (t: PyType) => {
    if (t.kind === 'union') t.members.forEach(push);
    else if (t.kind === 'literal') t.values.forEach((v) => (v === null ? pushUnique(NONE) : literals.includes(v) || literals.push(v)));
    else pushUnique(t);
  };
  const pushUnique = (t: PyType) => {
    const key = printType(t);
    if (!flat.some((f) => printType(f) === key)) flat.push(t);
  };
  members.forEach(push);
  if (flat.some((t) => t.kind === 'any')) return ANY;
  const out: PyType[] = literals.length ? [{ kind: 'literal', values: literals }, ...flat] : flat;
  // `None` last reads best: `str | None`.
  out.sort((a, b) => Number(a.kind === 'none') - Number(b.kind === 'none'));
  if (out.length === 0) return ANY;
  return out.length === 1 ? out[0]! : { kind: 'union', members: out };
}

export function pyLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'None';
  // JSON string escapes (\" \\ \n \uXXXX) are all valid in a Python string literal.
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pyLiteral).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${JSON.stringify(k)}: ${pyLiteral(v)}`)
    .join(', ')}}`;
}

export function printType(t: PyType): string {
  switch (t.kind) {
    case 'any':
      return 'Any';
    case 'none':
      return 'None';
    case 'name':
      return t.name;
    case 'literal':
      return `Literal[${t.values.map(pyLiteral).join(', ')}]`;
    case 'list':
      return `list[${printType(t.item)}]`;
    case 'dict':
      return `dict[str, ${printType(t.value)}]`;
    case 'union':
      return t.members.map(printType).join(' | ');
    case 'ref':
      return t.name;
  }
}

/**
 * Whether `None` is a value of the type, i.e. the schema allows null explicitly (a type
 * array with "null", `nullable`, an anyOf/oneOf branch or `const`/`enum` null), following
 * aliases. `Any` does not count: a schema that says nothing about null gets "not given".
 */
export function allowsNone(t: PyType, definitions: Definition[], seen: Set<string> = new Set()): boolean {
  if (t.kind === 'none') return true;
  if (t.kind === 'literal') return t.values.includes(null);
  if (t.kind === 'union') return t.members.some((m) => allowsNone(m, definitions, seen));
  if (t.kind === 'ref' && !seen.has(t.name)) {
    seen.add(t.name);
    const def = definitions.find((d) => d.name === t.name);
    return def?.kind === 'alias' && allowsNone(def.type, definitions, seen);
  }
  return false;
}

/** Names of definitions a type refers to (for ordering and reachability). */
export function refsOf(t: PyType, out: Set<string> = new Set()): Set<string> {
  if (t.kind === 'ref') out.add(t.name);
  else if (t.kind === 'list') refsOf(t.item, out);
  else if (t.kind === 'dict') refsOf(t.value, out);
  else if (t.kind === 'union') t.members.forEach((m) => refsOf(m, out));
  return out;
}
