// Errors and warnings of the compiler, each naming the file, the JSON path and the tool.

export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  /** JSON path in the input, in the form people read: `tools[3].inputSchema.properties.limit`. */
  path: string;
  tool?: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.path ? `${d.file}: ${d.path}` : d.file;
  const tool = d.tool !== undefined ? ` (tool ${JSON.stringify(d.tool)})` : '';
  return `${where}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}${tool}`;
}

/** The one error type the compiler throws for bad input; its message is ready to print. */
export class CompileError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'CompileError';
  }
}

/** Appends a key or index to a readable JSON path. */
export function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const plain = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key);
  if (!path) return plain ? key : `[${JSON.stringify(key)}]`;
  return plain ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** A sink the stages write to; errors are collected so one run reports them all. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  constructor(readonly file: string) {}

  error(path: string, message: string, tool?: string): void {
    this.list.push({ severity: 'error', file: this.file, path, message, ...(tool !== undefined ? { tool } : {}) });
  }

  warn(path: string, message: string, tool?: string): void {
    this.list.push({ severity: 'warning', file: this.file, path, message, ...(tool !== undefined ? { tool } : {}) });
  }

  get errors(): Diagnostic[] {
    return this.list.filter((d) => d.severity === 'error');
  }

  get warnings(): Diagnostic[] {
    return this.list.filter((d) => d.severity === 'warning');
  }

  throwIfErrors(): void {
    if (this.errors.length) throw new CompileError(this.errors);
  }
}
