import { ownTmpdir } from '../benchmarks/script.js';
import { buildGuest } from '../guest/build/index.js';

export default async function setup(): Promise<() => void> {
  await buildGuest();
  // The run's temporary folders under one, removed when the run ends (the test workers
  // inherit TMPDIR from here).
  return ownTmpdir('tic-tests-');
}
