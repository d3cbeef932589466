// Compiled guests for tests, one compile per test file (module-level cache).
import { buildGuest } from '../guest/build/index.js';
import { type GuestImage, compileGuest, lazyFileBytes } from '../runtime/instance.js';

const images = new Map<string, Promise<GuestImage>>();

export function guestImage(kind: 'snapshot' | 'core' = 'snapshot'): Promise<GuestImage> {
  let image = images.get(kind);
  if (!image) {
    image = buildGuest({ log: () => {} }).then((base) =>
      compileGuest(kind === 'snapshot' ? base.snapshotWasm : base.coreWasm, { 'python311.zip': lazyFileBytes(base.stdlibZip) }, kind === 'snapshot'),
    );
    images.set(kind, image);
  }
  return image;
}
