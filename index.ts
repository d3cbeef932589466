// The tooliscode library: everything the `tic` command does, as functions.
export { buildGuest, findBaseGuest, cacheRoot, GuestBuildError, type BaseGuest, type GuestBuildInfo } from './guest/build/index.js';
export {
  GuestInstance,
  GuestCrash,
  compileGuest,
  type CellResult,
  type CellError,
  type GuestImage,
  type HostCallHandler,
  type RunHooks,
} from './runtime/instance.js';
