// The tools' argument and result checks as `tic build` compiled them ahead of time
// (`validators.cjs` in its output, written by compiler/emit-validators.ts): ajv's standalone
// code, one function per schema. A process's first tool call then loads one small module
// instead of ajv's compiler and a compile of the tool's schema (a new process's first cell
// with one call: 68-120 -> 17-28 ms on this 2-core VM). Any doubt about the file (absent,
// from an older tooliscode or another ajv, made for another schema, failing to load) and
// the ToolTable compiles that schema with ajv as before: the file can make a check
// faster, never different.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { ValidateFunction } from 'ajv';

export const VALIDATORS_FILE = 'validators.cjs';
/** The layout of the file; a file of another format is not used. */
export const VALIDATORS_FORMAT = 1;

/** Which check of a tool: its arguments (inputSchema) or its result (outputSchema). */
export type CheckKind = 'i' | 'o';

/** The key of a tool's check in the file: kind and the tool's index in tools.json. */
export const validatorKey = (kind: CheckKind, index: number) => `${kind}${index}`;

/**
 * What the file records of each schema it compiled, to know it is the same schema: its JSON
 * text, compared whole (a hash would load node:crypto, 12 ms of a process's first call).
 */
export const schemaText = (schema: Record<string, unknown>) => JSON.stringify(schema);

/** What the file's factory returns. */
export interface ValidatorsModule {
  format: number;
  /** The ajv that generated the code: its runtime helpers must be the ones this process has. */
  ajv: string;
  /** key -> schemaText of the schema as tools.json has it. */
  schemas: Record<string, string>;
  /** Keys of schemas ajv could not compile: they are not checked (as the runtime does). */
  unchecked: string[];
  validators: Record<string, ValidateFunction>;
}

/** A prebuilt check: `validate` undefined for a schema that is not checked. */
export type Prebuilt = { validate: ValidateFunction | undefined };

/** Looks a check up; undefined when the file has none for this very schema. */
export type PrebuiltLookup = (kind: CheckKind, index: number, schema: Record<string, unknown>) => Prebuilt | undefined;

// The package's own require: the generated code needs ajv's small runtime helpers and
// ajv-formats' formats, resolved from this package wherever the build folder is.
const requireHere = createRequire(import.meta.url);

/** The version of the ajv this package resolves (the code tic build writes is tied to it). */
export const ajvVersion = (): string => (requireHere('ajv/package.json') as { version: string }).version;

/**
 * The prebuilt checks of the build in `dir`, loaded on first use; undefined if it has none.
 * A file that fails to load is reported once through `warn` and not used.
 */
export function prebuiltValidators(dir: string, warn: (message: string) => void = () => {}): PrebuiltLookup | undefined {
  // Absolute: require() takes a relative path for a package name (`tic build -o dist` then `loadGuest('dist')`).
  const file = resolve(dir, VALIDATORS_FILE);
  if (!existsSync(file)) return undefined;
  let loaded: ValidatorsModule | null | undefined;
  const load = (): ValidatorsModule | null => {
    if (loaded !== undefined) return loaded;
    try {
      const factory = requireHere(file) as unknown;
      const m = typeof factory === 'function' ? (factory as (r: NodeJS.Require) => ValidatorsModule)(requireHere) : undefined;
      loaded = m && m.format === VALIDATORS_FORMAT && typeof m.schemas === 'object' && typeof m.validators === 'object' && Array.isArray(m.unchecked) ? m : null;
      if (!loaded) warn(`${file} is not one this version of tooliscode reads (run tic build again); tool calls are checked without it`);
      else if (loaded.ajv !== ajvVersion()) {
        warn(`${file} was made by ajv ${String(loaded.ajv)}, this process has ajv ${ajvVersion()} (run tic build again); tool calls are checked without it`);
        loaded = null;
      }
    } catch (err) {
      loaded = null;
      warn(`${file} could not be loaded (${(err as Error).message.split('\n')[0]}); tool calls are checked without it`);
    }
    return loaded;
  };
  return (kind, index, schema) => {
    const m = load();
    if (!m) return undefined;
    const key = validatorKey(kind, index);
    const text = m.schemas[key];
    if (text === undefined || text !== schemaText(schema)) return undefined;
    if (m.unchecked.includes(key)) return { validate: undefined };
    const validate = m.validators[key];
    return typeof validate === 'function' ? { validate } : undefined;
  };
}
