import { buildGuest } from '../guest/build/index.js';

export default async function setup(): Promise<void> {
  await buildGuest();
}
