// JSON Schema -> Python types. One function per schema construct; the readable JSON
// path of the node is threaded through every call, for warnings and for the names of
// generated TypedDicts. Valid-but-unsupported constructs degrade to `Any` with a warning.

import { type Diagnostics, child } from '../diagnostics.js';
import type { ToolIR } from '../normalize.js';
import { ANY, type Definition, type Literal, NONE, type PyType, named, printType, pyLiteral, union } from './model.js';
import { NameScope, identifier, pascalCase } from './names.js';
import { escapePointer, resolvePointer } from '../schema-refs.js';
import { constraintsText } from './constraints.js';

type Schema = Record<string, unknown>;

export interface Param {
  /** JSON key in the arguments object. */
  key: string;
  /** Python parameter name. */
  pyName: string;
  type: PyType;
  required: boolean;
  /** Python literal of the schema default, if the schema has one. */
  default?: string;
  description?: string;
  /** The schema's checks in a few words (`1..7`), see constraints.ts. */
  constraints?: string;
}

export interface ToolSignature {
  params: Param[];
  /** Extra keyword arguments allowed (`additionalProperties` with no named properties). */
  extra?: PyType;
  result: PyType;
}

interface Ctx {
  tool: ToolIR;
  root: Schema;
  /** Readable path of the root in the input file (for messages). */
  rootPath: string;
  /** Readable path of this node. */
  path: string;
  /** JSON pointer of this node inside root (for $ref identity). */
  pointer: string;
  /** Python name if this node becomes a TypedDict (qualified by where it is: always free). */
  hint: string;
  /** A shorter name to prefer while it is free (`Entity` for the items of `entities`). */
  short?: string;
}

/** `entities` -> `entities` singular, for the items of an array: `Entity`. */
export function singular(word: string): string {
  if (/ies$/i.test(word)) return word.slice(0, -3) + 'y';
  if (/(ss|x|ch|sh)es$/i.test(word)) return word.slice(0, -2);
  if (/[^s]s$/i.test(word)) return word.slice(0, -1);
  return `${word}Item`;
}

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const isLiteral = (v: unknown): v is Literal =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v));

const TYPE_KEYS = ['type', 'properties', 'items', 'prefixItems', '$ref', 'enum', 'const', 'anyOf', 'oneOf', 'allOf', 'additionalProperties'];

/** A branch that only adds constraints (`{required: [...]}`) says nothing about the type. */
const constraintOnly = (s: unknown) => isObject(s) && !TYPE_KEYS.some((k) => k in s);

export function firstLine(text: string | undefined): string | undefined {
  const line = text?.trim().split(/\n\s*\n|\n/)[0]?.trim();
  return line || undefined;
}

export class PythonTypes {
  readonly definitions: Definition[] = [];
  /** `tool name + root kind + JSON pointer` -> definition name: makes $ref and recursion work. */
  private readonly byPointer = new Map<string, string>();
  /** Structure of each TypedDict -> its name, to merge identical shapes. */
  private readonly byShape = new Map<string, string>();

  constructor(
    /** Module-level names: functions are registered here too, so types never collide with them. */
    readonly scope: NameScope,
    private readonly diags: Diagnostics,
  ) {}

  signature(tool: ToolIR): ToolSignature {
    const base = pascalCase(tool.pyName);
    const inputCtx: Ctx = { tool, root: tool.inputSchema, rootPath: tool.source.inputPath, path: tool.source.inputPath, pointer: '#', hint: `${base}Args` };
    const { params, extra } = this.params(inputCtx);
    let result: PyType = ANY;
    if (tool.outputSchema) {
      result = this.convert(tool.outputSchema, {
        tool,
        root: tool.outputSchema,
        rootPath: tool.source.outputPath,
        path: tool.source.outputPath,
        pointer: '#',
        hint: `${base}Result`,
      });
    }
    return { params, ...(extra ? { extra } : {}), result };
  }

  private params(ctx: Ctx): { params: Param[]; extra?: PyType } {
    const schema = this.flattenObject(ctx.root, ctx);
    const props = isObject(schema.properties) ? schema.properties : {};
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    // The function body calls _call/_call_async; `self`/`cls` would read as a method's own.
    const names = new NameScope(['_call', '_call_async', 'self', 'cls']);
    const params: Param[] = [];
    for (const [key, prop] of Object.entries(props)) {
      const path = child(child(ctx.path, 'properties'), key);
      const type = this.convert(prop, {
        ...ctx,
        path,
        pointer: `${ctx.pointer}/properties/${escapePointer(key)}`,
        hint: `${pascalCase(ctx.tool.pyName)}${pascalCase(key)}`,
        short: pascalCase(key),
      });
      const p: Param = { key, pyName: names.allocate(identifier(key, 'keep')), type, required: required.has(key) };
      if (isObject(prop)) {
        if ('default' in prop && !required.has(key)) {
          if (this.fits(prop.default, type)) p.default = pyDefault(prop.default);
          else this.diags.warn(child(path, 'default'), `the default ${JSON.stringify(prop.default)} does not match the parameter's type; the parameter defaults to None (not given)`, ctx.tool.name);
        }
        const d = typeof prop.description === 'string' ? prop.description : undefined;
        if (d) p.description = d;
        const c = constraintsText(prop, (r) => this.deref(r, ctx)?.schema);
        if (c) p.constraints = c;
      }
      params.push(p);
    }
    // Required parameters first; the rest keep their schema order.
    params.sort((a, b) => Number(b.required) - Number(a.required));
    const ap = schema.additionalProperties;
    if (Object.keys(props).length === 0 && ap !== false && ap !== undefined) {
      return { params, extra: ap === true ? ANY : this.convert(ap, { ...ctx, path: child(ctx.path, 'additionalProperties'), pointer: `${ctx.pointer}/additionalProperties`, hint: `${ctx.hint}Value`, short: undefined }) };
    }
    return { params };
  }

  /**
   * The object schema a tool's arguments really are: top-level `allOf` merged, and the
   * properties of `anyOf`/`oneOf` alternatives offered as optional parameters.
   */
  private flattenObject(schema: Schema, ctx: Ctx): Schema {
    let out: Schema = { ...schema };
    if (Array.isArray(schema.allOf)) {
      const merged = this.mergeAllOf(schema, ctx);
      if (merged) out = merged;
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      const branches = out[key];
      if (!Array.isArray(branches) || branches.every(constraintOnly)) continue;
      const props: Schema = { ...(isObject(out.properties) ? out.properties : {}) };
      for (const b of branches) {
        const resolved = isObject(b) ? this.deref(b, ctx)?.schema : undefined;
        if (resolved && isObject(resolved.properties)) Object.assign(props, resolved.properties);
      }
      this.diags.warn(child(ctx.path, key), `alternative argument sets are offered as optional parameters; the tool checks which combination is valid`, ctx.tool.name);
      out = { ...out, properties: props };
      delete out[key];
    }
    return out;
  }

  private mergeAllOf(schema: Schema, ctx: Ctx): Schema | undefined {
    const parts = [schema, ...(schema.allOf as unknown[])];
    const properties: Schema = {};
    const required: string[] = [];
    for (const part of parts) {
      const s = isObject(part) ? (part === schema ? part : this.deref(part, ctx)?.schema) : undefined;
      if (!s) return undefined;
      if (s !== schema && 'type' in s && s.type !== 'object') return undefined;
      if (isObject(s.properties)) Object.assign(properties, s.properties);
      if (Array.isArray(s.required)) required.push(...(s.required as string[]));
    }
    const { allOf: _drop, ...rest } = schema;
    return { ...rest, type: 'object', properties, required: [...new Set(required)] };
  }

  /** Follows a local `$ref`; returns the target and its pointer (undefined if it cannot). */
  private deref(schema: Schema, ctx: Ctx): { schema: Schema; pointer: string } | undefined {
    if (typeof schema.$ref !== 'string') return { schema, pointer: ctx.pointer };
    const ref = schema.$ref;
    if (!ref.startsWith('#')) return undefined;
    const target = resolvePointer(ctx.root, ref.slice(1));
    return isObject(target) ? { schema: target, pointer: ref } : undefined;
  }

  /** Whether a JSON value is a value of the Python type (for schema defaults). */
  fits(v: unknown, t: PyType): boolean {
    switch (t.kind) {
      case 'any':
        return true;
      case 'none':
        return v === null;
      case 'name':
        if (t.name === 'str') return typeof v === 'string';
        if (t.name === 'int') return typeof v === 'number' && Number.isInteger(v);
        if (t.name === 'float') return typeof v === 'number';
        if (t.name === 'bool') return typeof v === 'boolean';
        return true;
      case 'literal':
        return t.values.includes(v as Literal);
      case 'list':
        return Array.isArray(v) && v.every((x) => this.fits(x, t.item));
      case 'dict':
        return isObject(v) && Object.values(v).every((x) => this.fits(x, t.value));
      case 'union':
        return t.members.some((m) => this.fits(v, m));
      case 'ref': {
        const def = this.definitions.find((d) => d.name === t.name);
        if (!def) return false;
        if (def.kind === 'alias') return this.fits(v, def.type);
        return isObject(v) && def.fields.every((f) => (f.key in v ? this.fits(v[f.key], f.type) : !f.required)) && Object.keys(v).every((k) => def.fields.some((f) => f.key === k));
      }
    }
  }

  convert(schema: unknown, ctx: Ctx): PyType {
    if (schema === true || schema === undefined) return ANY;
    if (schema === false) return ANY;
    if (!isObject(schema)) return ANY;
    const base = this.convertInner(schema, ctx);
    return schema.nullable === true ? union([base, NONE]) : base;
  }

  private convertInner(s: Schema, ctx: Ctx): PyType {
    if (typeof s.$ref === 'string') return this.ref(s.$ref, ctx);
    // Through union(): `const: null` is `None`, not `Literal[None]`.
    if ('const' in s) return isLiteral(s.const) ? union([{ kind: 'literal', values: [s.const] }]) : this.fromValue(s.const);
    if (Array.isArray(s.enum)) return this.enumType(s.enum);
    for (const key of ['anyOf', 'oneOf'] as const) {
      const branches = s[key];
      if (Array.isArray(branches) && !branches.every(constraintOnly)) {
        const { [key]: _drop, ...rest } = s;
        const shared = Object.keys(rest).some((k) => TYPE_KEYS.includes(k)) ? rest : undefined;
        return union(
          branches.map((b, i) => {
            // Keywords beside anyOf (a shared `type`, say) apply to every branch.
            const branch = shared && isObject(b) && !('$ref' in b) ? { ...shared, ...b } : b;
            const title = isObject(b) && typeof b.title === 'string' ? pascalCase(b.title) : undefined;
            return this.convert(branch, {
              ...ctx,
              path: child(child(ctx.path, key), i),
              pointer: `${ctx.pointer}/${key}/${i}`,
              hint: title ?? `${ctx.hint}${branches.length > 1 ? `Option${i + 1}` : ''}`,
              ...(branches.length === 1 && ctx.short ? { short: ctx.short } : { short: undefined }),
            });
          }),
        );
      }
    }
    if (Array.isArray(s.allOf)) {
      const merged = this.mergeAllOf(s, ctx);
      if (merged) return this.convertInner(merged, ctx);
      if (s.allOf.length === 1) return this.convert(s.allOf[0], { ...ctx, path: child(child(ctx.path, 'allOf'), 0), pointer: `${ctx.pointer}/allOf/0` });
      this.diags.warn(child(ctx.path, 'allOf'), 'allOf of non-object schemas is typed as Any', ctx.tool.name);
      return ANY;
    }
    if (Array.isArray(s.type)) {
      return union(s.type.map((t) => this.convertInner({ ...s, type: t }, ctx)));
    }
    switch (s.type) {
      case 'string':
        return named('str');
      case 'integer':
        return named('int');
      case 'number':
        return named('float');
      case 'boolean':
        return named('bool');
      case 'null':
        return NONE;
      case 'array':
        return this.arrayType(s, ctx);
      case 'object':
        return this.objectType(s, ctx);
      case undefined:
        if (isObject(s.properties) || 'additionalProperties' in s) return this.objectType(s, ctx);
        if ('items' in s || 'prefixItems' in s) return this.arrayType(s, ctx);
        return ANY;
      default:
        return ANY;
    }
  }

  private enumType(values: unknown[]): PyType {
    const literals = values.filter(isLiteral);
    const others = values.filter((v) => !isLiteral(v)).map((v) => this.fromValue(v));
    return union([...(literals.length ? [{ kind: 'literal', values: literals } as PyType] : []), ...others]);
  }

  private fromValue(v: unknown): PyType {
    if (typeof v === 'number') return named('float');
    if (Array.isArray(v)) return { kind: 'list', item: ANY };
    if (isObject(v)) return { kind: 'dict', value: ANY };
    return ANY;
  }

  private arrayType(s: Schema, ctx: Ctx): PyType {
    const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : undefined;
    if (tuple) {
      const key = Array.isArray(s.prefixItems) ? 'prefixItems' : 'items';
      const types = tuple.map((t, i) => this.convert(t, { ...ctx, path: child(child(ctx.path, key), i), pointer: `${ctx.pointer}/${key}/${i}`, hint: `${ctx.hint}Item${i + 1}`, short: undefined }));
      // The schema of the items after the prefix: `items` beside `prefixItems` (2020-12),
      // `additionalItems` beside an `items` array (draft-07). Absent or `true`, any item is
      // allowed after the prefix; the type keeps to the prefix, as before, rather than Any.
      const restKey = key === 'prefixItems' ? 'items' : 'additionalItems';
      const rest = s[restKey];
      if (isObject(rest)) {
        types.push(this.convert(rest, { ...ctx, path: child(ctx.path, restKey), pointer: `${ctx.pointer}/${restKey}`, hint: `${ctx.hint}Item`, short: undefined }));
      }
      return { kind: 'list', item: union(types) };
    }
    const itemCtx: Ctx = { ...ctx, path: child(ctx.path, 'items'), pointer: `${ctx.pointer}/items`, hint: `${ctx.hint}Item` };
    if (ctx.short) itemCtx.short = singular(ctx.short);
    else delete itemCtx.short;
    return { kind: 'list', item: this.convert(s.items, itemCtx) };
  }

  private objectType(s: Schema, ctx: Ctx): PyType {
    const props = isObject(s.properties) ? s.properties : {};
    if (Object.keys(props).length === 0) {
      const ap = s.additionalProperties;
      if (isObject(ap)) {
        return { kind: 'dict', value: this.convert(ap, { ...ctx, path: child(ctx.path, 'additionalProperties'), pointer: `${ctx.pointer}/additionalProperties`, hint: `${ctx.hint}Value`, short: undefined }) };
      }
      return { kind: 'dict', value: ANY };
    }
    const memoKey = this.memoKey(ctx, ctx.pointer);
    const existing = this.byPointer.get(memoKey);
    if (existing) return { kind: 'ref', name: existing };
    const title = typeof s.title === 'string' && s.title.trim() ? pascalCase(s.title) : undefined;
    const preferred = title ?? (ctx.short && !this.scope.has(ctx.short) && !this.scope.isUnsafe(ctx.short) ? ctx.short : ctx.hint);
    const name = this.scope.allocate(preferred);
    this.byPointer.set(memoKey, name);
    const def: Definition = { kind: 'typeddict', name, fields: [] };
    if (typeof s.description === 'string' && s.description.trim()) def.description = s.description;
    this.definitions.push(def);
    const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    for (const [key, prop] of Object.entries(props)) {
      const type = this.convert(prop, {
        ...ctx,
        path: child(child(ctx.path, 'properties'), key),
        pointer: `${ctx.pointer}/properties/${escapePointer(key)}`,
        hint: `${name}${pascalCase(key)}`,
        short: pascalCase(key),
      });
      const description = isObject(prop) && typeof prop.description === 'string' ? prop.description : undefined;
      const constraints = constraintsText(prop, (r) => this.deref(r, ctx)?.schema);
      def.fields.push({ key, type, required: required.has(key), ...(description ? { description } : {}), ...(constraints ? { constraints } : {}) });
    }
    // The same shape met again (an entity in the arguments and in the result, say) reuses
    // the first definition: fewer names for the model to read. Recursive shapes stay apart.
    const shape = JSON.stringify([def.description, def.fields.map((f) => [f.key, printType(f.type), f.required, f.description, f.constraints])]);
    const twin = this.byShape.get(shape);
    if (twin && !shape.includes(`"${name}`)) {
      this.definitions.splice(this.definitions.indexOf(def), 1);
      this.byPointer.set(memoKey, twin);
      return { kind: 'ref', name: twin };
    }
    this.byShape.set(shape, name);
    return { kind: 'ref', name };
  }

  private memoKey(ctx: Ctx, pointer: string): string {
    return `${ctx.tool.name}\0${ctx.rootPath}\0${pointer}`;
  }

  private ref(ref: string, ctx: Ctx): PyType {
    if (!ref.startsWith('#')) {
      this.diags.warn(child(ctx.path, '$ref'), `only references inside the schema are followed; ${JSON.stringify(ref)} is typed as Any`, ctx.tool.name);
      return ANY;
    }
    const pointer = ref === '#' ? '#' : ref;
    const memoKey = this.memoKey(ctx, pointer);
    const known = this.byPointer.get(memoKey);
    if (known) return { kind: 'ref', name: known };
    const target = resolvePointer(ctx.root, ref.slice(1));
    if (target === undefined) {
      this.diags.warn(child(ctx.path, '$ref'), `${JSON.stringify(ref)} points to nothing in this schema; typed as Any`, ctx.tool.name);
      return ANY;
    }
    const segments = ref.split('/');
    const defName = decodeURIComponent(segments[segments.length - 1] ?? '');
    const hint = ref === '#' ? ctx.hint.replace(/Args$/, '') + 'Args' : pascalCase(defName || 'Ref');
    if (isObject(target) && (target.type === 'object' || isObject(target.properties)) && !('$ref' in target)) {
      // Objects become TypedDicts keyed by the pointer, so recursion refers back by name.
      return this.objectType(target, { ...ctx, pointer, path: `${ctx.rootPath}${ref.slice(1).replace(/\//g, '.')}`, hint, short: undefined });
    }
    // Anything else becomes an alias; reserve the name first so recursion can refer to it.
    const name = this.scope.allocate(hint);
    this.byPointer.set(memoKey, name);
    const alias: Definition = { kind: 'alias', name, type: ANY };
    this.definitions.push(alias);
    alias.type = this.convert(target, { ...ctx, pointer, path: `${ctx.rootPath}${ref.slice(1).replace(/\//g, '.')}`, hint, short: undefined });
    return { kind: 'ref', name };
  }
}

/** The Python literal of a schema default, when it is plain JSON. */
function pyDefault(v: unknown): string | undefined {
  if (typeof v === 'number' && !Number.isFinite(v)) return undefined;
  return v === undefined || typeof v === 'function' ? undefined : pyLiteral(v);
}
