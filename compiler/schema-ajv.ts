// One choice of ajv per JSON Schema draft, shared by the compiler (is this a schema?) and
// the runtime (do these arguments fit it? does this result fit the output schema?).

import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: under Node's ESM loader its default import is module.exports.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default;

// Known formats (date-time, email, uri, uuid, ...) are checked, as the prompt tells the
// model; an unknown format is descriptive only, and `logger: false` keeps ajv from
// printing about it on the host's stderr. multipleOfPrecision: without it ajv refuses
// 19.99 as a multiple of 0.01 (it divides floats).
const options = { strict: false, allErrors: false, logger: false, multipleOfPrecision: 9 } as const;
const ajv07 = new Ajv(options);
const ajv2020 = new Ajv2020(options);
addFormats(ajv07);
addFormats(ajv2020);

/**
 * The ajv for the schema's draft (2019-09 and 2020-12 by their `$schema`, else draft-07),
 * and the schema without `$schema` and `$id`: an unknown `$schema` URI would make ajv
 * refuse outright, and two tools with one `$id` would clash in ajv's registry.
 */
export function ajvFor(schema: Record<string, unknown>): { ajv: Ajv; schema: Record<string, unknown> } {
  const { $schema, $id: _id, ...rest } = schema;
  const uri = typeof $schema === 'string' ? $schema : '';
  return { ajv: uri.includes('2020-12') || uri.includes('2019-09') ? ajv2020 : ajv07, schema: rest };
}
