// The plain one-shot `tic run` that cli/tic.ts runs without loading the full command line.

import { type CheckMode, CHECK_MODES, DEFAULT_CHECK_MODE } from '../runtime/check.js';

export interface FastRun {
  code?: string;
  paths: string[];
  snapshot: boolean;
  check: CheckMode;
}

/** `run` with only -c/--code, --no-snapshot, --check and up to two paths; else undefined. */
export function fastRunArgs(argv: string[]): FastRun | undefined {
  if (argv[0] !== 'run') return undefined;
  const out: FastRun = { paths: [], snapshot: true, check: DEFAULT_CHECK_MODE };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string | undefined => {
      const v = argv[++i];
      // A value that looks like an option is left to commander's rules.
      return v === undefined || v.startsWith('-') ? undefined : v;
    };
    if (a === '-c' || a === '--code') {
      const v = value();
      if (v === undefined || out.code !== undefined) return undefined;
      out.code = v;
    } else if (a === '--no-snapshot') out.snapshot = false;
    else if (a === '--check') {
      const v = value();
      if (!(CHECK_MODES as readonly string[]).includes(v ?? '')) return undefined;
      out.check = v as CheckMode;
    } else if (a.startsWith('-')) return undefined;
    else out.paths.push(a);
  }
  return out;
}
