// JSON Pointer helpers shared by the Python and TypeScript emitters, and `flattenRefs`,
// which rewrites a schema so that every local `$ref` points at one flat `$defs` table.
// json-schema-to-typescript's resolver trips over refs that real tool lists contain
// (`$defs` nested below the root, percent-encoded pointers, a definition named `$ref`),
// so the TypeScript side hands it schemas whose references are already simple.

type Schema = Record<string, unknown>;

function isObject(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Resolves a JSON Pointer (RFC 6901, also in its URI-fragment form) inside `root`. */
export function resolvePointer(root: unknown, pointer: string): unknown {
  if (pointer === '' || pointer === '/') return root;
  let cur: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      seg = raw;
    }
    seg = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObject(cur)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

// Keywords whose value is a map of subschemas, a list of them, or one subschema.
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const SCHEMA_ONE = new Set([
  'additionalProperties', 'items', 'additionalItems', 'not', 'if', 'then', 'else', 'contains',
  'propertyNames', 'unevaluatedProperties', 'unevaluatedItems',
]);
const DEFINITIONS = new Set(['$defs', 'definitions']);

/**
 * A copy of `root` in which every local `$ref` reads `#/$defs/<Name>` with a plain
 * identifier, all referenced schemas live in the root `$defs`, and references that
 * cannot be followed (remote, dangling) become `{}` (any value). Recursion is kept.
 */
export function flattenRefs(root: Schema): Schema {
  const names = new Map<object, string>();
  const defs: Schema = {};
  const taken = new Set<string>();

  const nameFor = (pointer: string): string => {
    const last = pointer.split('/').pop() ?? '';
    const decoded = (() => {
      try {
        return decodeURIComponent(last);
      } catch {
        return last;
      }
    })();
    const words = decoded.replace(/~1/g, '/').replace(/~0/g, '~').split(/[^A-Za-z0-9]+/).filter(Boolean);
    let base = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('') || 'Def';
    if (/^[0-9]/.test(base)) base = `Def${base}`;
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
    taken.add(name);
    return name;
  };

  const visit = (node: unknown): unknown => {
    if (typeof node === 'boolean') return node;
    if (!isObject(node)) return {};
    if (typeof node.$ref === 'string') {
      const ref = node.$ref;
      const target = ref.startsWith('#') ? resolvePointer(root, ref.slice(1)) : undefined;
      const keep = typeof node.description === 'string' ? { description: node.description } : {};
      if (typeof target === 'boolean') return target ? keep : { not: {} };
      if (!isObject(target)) return keep;
      let name = names.get(target);
      if (name === undefined) {
        name = nameFor(ref === '#' ? 'Root' : ref);
        names.set(target, name);
        defs[name] = {}; // reserved before the visit, so recursion finds the name
        defs[name] = visit(target);
      }
      return { ...keep, $ref: `#/$defs/${name}` };
    }
    const out: Schema = {};
    for (const [key, value] of Object.entries(node)) {
      if (DEFINITIONS.has(key)) continue; // reached through the references that use them
      if (SCHEMA_MAPS.has(key) && isObject(value)) {
        out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
      } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
        out[key] = value.map(visit);
      } else if (SCHEMA_ONE.has(key) && (isObject(value) || typeof value === 'boolean')) {
        out[key] = visit(value);
      } else if (key === 'items' && Array.isArray(value)) {
        out[key] = value.map(visit); // draft-07 tuple form
      } else {
        out[key] = value;
      }
    }
    return out;
  };

  const flat = visit(root) as Schema;
  if (Object.keys(defs).length > 0) flat.$defs = defs;
  return flat;
}
