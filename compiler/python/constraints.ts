// The checks of a JSON Schema node that its Python type cannot say (bounds, lengths,
// patterns, formats, ...), in a few words for docstrings and the prompt: `1..7`,
// `len <= 64`, `pattern ^[a-z]+$`, `format date-time`. The host enforces them (ajv); the
// model should know them before it calls, not learn them from a ToolArgumentError.

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** `1..7`, `>= 1`, `< 10`, `> 0, <= 100` (draft-4 boolean exclusives included). */
function bounds(s: Schema): string[] {
  const lower = isNumber(s.exclusiveMinimum)
    ? { op: '>', n: s.exclusiveMinimum }
    : isNumber(s.minimum)
      ? { op: s.exclusiveMinimum === true ? '>' : '>=', n: s.minimum }
      : undefined;
  const upper = isNumber(s.exclusiveMaximum)
    ? { op: '<', n: s.exclusiveMaximum }
    : isNumber(s.maximum)
      ? { op: s.exclusiveMaximum === true ? '<' : '<=', n: s.maximum }
      : undefined;
  if (lower?.op === '>=' && upper?.op === '<=') return [`${lower.n}..${upper.n}`];
  return [lower, upper].filter((b) => b !== undefined).map((b) => `${b.op} ${b.n}`);
}

/** `len 1..64`, `len >= 1`, `len <= 64`. */
function length(min: unknown, max: unknown): string[] {
  const lo = isNumber(min) && min > 0 ? min : undefined;
  const hi = isNumber(max) ? max : undefined;
  if (lo !== undefined && hi !== undefined) return [lo === hi ? `len ${lo}` : `len ${lo}..${hi}`];
  if (lo !== undefined) return [`len >= ${lo}`];
  if (hi !== undefined) return [`len <= ${hi}`];
  return [];
}

/**
 * The constraints of one schema node, or undefined when it has none. `resolve` follows a
 * local `$ref`; an optional value written `anyOf: [{...checks}, {type: null}]` (as
 * pydantic writes it) takes the checks of its one non-null branch.
 */
export function constraintsText(schema: unknown, resolve: (s: Schema) => Schema | undefined = (s) => s, depth = 0): string | undefined {
  if (!isObject(schema) || depth > 3) return undefined;
  const s = typeof schema.$ref === 'string' ? resolve(schema) : schema;
  if (!s) return undefined;
  const parts: string[] = [...bounds(s)];
  if (isNumber(s.multipleOf)) parts.push(`multiple of ${s.multipleOf}`);
  parts.push(...length(s.minLength, s.maxLength), ...length(s.minItems, s.maxItems));
  if (s.uniqueItems === true) parts.push('unique');
  if (typeof s.pattern === 'string') parts.push(`pattern ${s.pattern.replace(/\s+/g, ' ')}`);
  if (typeof s.format === 'string') parts.push(`format ${s.format}`);
  const items = constraintsText(s.items, resolve, depth + 1);
  if (items) parts.push(`items ${items}`);
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = Array.isArray(s[key]) ? (s[key] as unknown[]) : [];
    const nonNull = branches.filter((b) => !(isObject(b) && (b.type === 'null' || b.const === null)));
    if (nonNull.length === 1) {
      const inner = constraintsText(nonNull[0], resolve, depth + 1);
      if (inner) parts.push(inner);
    }
  }
  return parts.length ? parts.join(', ') : undefined;
}

/** A parameter's or field's doc line: its constraints, then its description (`1..7; Days ahead.`). */
export function withConstraints(constraints: string | undefined, description: string | undefined): string | undefined {
  if (constraints && description) return `${constraints}; ${description}`;
  return constraints ?? description;
}
