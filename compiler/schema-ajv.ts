// One choice of ajv per JSON Schema draft, shared by the compiler (is this a schema?) and
// the runtime (do these arguments fit it? does this result fit the output schema?).
//
// ajv and ajv-formats cost about 40 ms to load and are needed only when a tool call's
// arguments are first checked, so they are required on first use (they are CommonJS, so
// a synchronous require works where the callers are synchronous): `import 'tooliscode'`
// and a session that never calls a tool do not pay for them.

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

/** Each draft's instance is made when a schema of that draft first needs it (2020-12's costs 6 ms more to load). */
const draft07 = () => (ajv07 ??= withFormats(new (requireHere('ajv') as typeof import('ajv')).Ajv(options)));
const draft2020 = () => (ajv2020 ??= withFormats(new (requireHere('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js')).Ajv2020(options)));

/**
 * The ajv for the schema's draft (2019-09 and 2020-12 by their `$schema`, else draft-07),
 * and the schema without `$schema` and `$id`: an unknown `$schema` URI would make ajv
 * refuse outright, and two tools with one `$id` would clash in ajv's registry.
 */
export function ajvFor(schema: Record<string, unknown>): { ajv: Ajv; schema: Record<string, unknown> } {
  const { $schema, $id: _id, ...rest } = schema;
  const uri = typeof $schema === 'string' ? $schema : '';
  return { ajv: uri.includes('2020-12') || uri.includes('2019-09') ? draft2020() : draft07(), schema: rest };
}
