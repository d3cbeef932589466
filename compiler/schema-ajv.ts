// One choice of ajv per JSON Schema draft, shared by the compiler (is this a schema? and the
// checks it compiles ahead: emit-validators.ts) and the runtime (do these arguments fit
// it? does this result fit the output schema?), with one preparation of a tool's schema
// for both (preparedSchema).
//
// ajv and ajv-formats cost about 40 ms to load, and compiling a process's first schema
// 25 ms more: a build's checks come compiled (validators.cjs), and ajv is required only
// for a check that did not (a build by an older tooliscode, a schema edited since). It is
// CommonJS, so a synchronous require works where the callers are synchronous.

import { createRequire } from 'node:module';
import type { Ajv } from 'ajv';

// Known formats (date-time, email, uri, uuid, ...) are checked, as the prompt tells the
// model; an unknown format is descriptive only, and `logger: false` keeps ajv from
// printing about it on the host's stderr. multipleOfPrecision: without it ajv refuses
// 19.99 as a multiple of 0.01 (it divides floats). validateSchema: compile() does not
// check a schema against its draft's meta-schema first: tic build does, once, and says
// where (normalize.ts calls validateSchema), and compiling the meta-schema was 23 of the
// 28 ms of a process's first validator, which its first tool call waited for.
const options = { strict: false, allErrors: false, logger: false, multipleOfPrecision: 9, validateSchema: false } as const;

let ajv07: Ajv | undefined;
let ajv2020: Ajv | undefined;
const requireHere = createRequire(import.meta.url);

/** ajv-formats is CommonJS: its module.exports is the function (also as .default). */
const withFormats = (ajv: Ajv): Ajv => {
  (requireHere('ajv-formats') as typeof import('ajv-formats').default)(ajv);
  return ajv;
};

export type Draft = '07' | '2020';

/**
 * A new ajv for a draft. `source`: it keeps the code it generates, for `standaloneCode`
 * (tic build writes the validators out: emit-validators.ts); the runtime's instances do not.
 */
export function newAjv(draft: Draft, source = false): Ajv {
  const opts = source ? { ...options, code: { source: true } } : options;
  return withFormats(draft === '07' ? new (requireHere('ajv') as typeof import('ajv')).Ajv(opts) : new (requireHere('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js')).Ajv2020(opts));
}

/** Each draft's instance is made when a schema of that draft first needs it (2020-12's costs 6 ms more to load). */
const draft07 = () => (ajv07 ??= newAjv('07'));
const draft2020 = () => (ajv2020 ??= newAjv('2020'));

/** The draft of a schema: 2019-09 and 2020-12 by their `$schema`, else draft-07. */
export function draftOf(schema: Record<string, unknown>): Draft {
  const uri = typeof schema.$schema === 'string' ? schema.$schema : '';
  return uri.includes('2020-12') || uri.includes('2019-09') ? '2020' : '07';
}

/** The schema without `$schema` and `$id` (why: ajvFor). */
function withoutIds(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _s, $id: _id, ...rest } = schema;
  return rest;
}

/**
 * The ajv for the schema's draft, and the schema without `$schema` and `$id`: an unknown
 * `$schema` URI would make ajv refuse outright, and two tools with one `$id` would clash in
 * ajv's registry.
 */
export function ajvFor(schema: Record<string, unknown>): { ajv: Ajv; schema: Record<string, unknown> } {
  return { ajv: draftOf(schema) === '2020' ? draft2020() : draft07(), schema: withoutIds(schema) };
}

/**
 * A tool's schema as the host checks values against it: ajvFor's, with the `$ref`s it cannot
 * resolve dropped (withoutUnresolvableRefs). What the runtime compiles and what tic build
 * writes out as standalone code (emit-validators.ts) are this same schema.
 */
export function preparedSchema(schema: Record<string, unknown>): Record<string, unknown> {
  return withoutUnresolvableRefs(withoutIds(schema), typeof schema.$id === 'string' ? schema.$id : undefined);
}

// Keywords whose values are data, not schemas: a `$ref` key inside them is not a reference.
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The node at a JSON pointer (`/a/0/b`, URI-encoded as in a `$ref`), or undefined. */
function atPointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    let key: string;
    try {
      key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
    else if (isRecord(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

/**
 * The schema with every `$ref` this schema cannot resolve by itself (an external URL, a
 * pointer to nothing) dropped, as if it were `true`: ajv refuses to compile a schema with
 * one, and then no argument of the tool would be checked. tic build types such a value
 * as Any too. Resolvable: `#`, a JSON pointer into the schema, an `$anchor`/`$id` it
 * declares, or the same with the root's `$id` in front.
 */
export function withoutUnresolvableRefs(schema: Record<string, unknown>, rootId?: string): Record<string, unknown> {
  const names = new Set<string>();
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(collect);
    if (!isRecord(node)) return;
    for (const key of ['$id', '$anchor', '$dynamicAnchor', '$recursiveAnchor']) {
      const v = node[key];
      if (typeof v === 'string') names.add(key === '$id' ? v : `#${v}`);
    }
    for (const [k, v] of Object.entries(node)) if (!DATA_KEYWORDS.has(k)) collect(v);
  };
  collect(schema);
  const base = rootId?.replace(/#.*$/, '');
  // ajvFor drops the root's $id, so a ref through it is made local; undefined: unresolvable.
  const resolve = (ref: string): string | undefined => {
    const local = base && ref.startsWith(base) ? ref.slice(base.length) || '#' : ref;
    if (local === '#') return local;
    if (local.startsWith('#/')) return atPointer(schema, local.slice(1)) !== undefined ? local : undefined;
    return names.has(local) || names.has(local.replace(/#$/, '')) ? local : undefined;
  };
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isRecord(node)) return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        const ref = resolve(v);
        if (ref !== undefined) out[k] = ref;
        continue;
      }
      out[k] = DATA_KEYWORDS.has(k) ? v : rewrite(v);
    }
    return out;
  };
  return rewrite(schema) as Record<string, unknown>;
}

