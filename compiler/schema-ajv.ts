// One choice of ajv per JSON Schema draft, shared by the compiler (is this a schema?) and
// the runtime (do these arguments fit it?).

import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';

// Formats are descriptive in tool lists (and ajv would need ajv-formats for most of them).
const ajv07 = new Ajv({ strict: false, validateFormats: false, allErrors: false });
const ajv2020 = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });

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
