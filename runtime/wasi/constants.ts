// WASI preview1 (wasi_snapshot_preview1) numbers the runtime needs, from the witx spec.

export const Errno = {
  SUCCESS: 0,
  ACCES: 2,
  BADF: 8,
  EXIST: 20,
  FAULT: 21,
  INVAL: 28,
  IO: 29,
  ISDIR: 31,
  NAMETOOLONG: 37,
  NOENT: 44,
  NOSPC: 51,
  NOSYS: 52,
  NOTDIR: 54,
  NOTEMPTY: 55,
  NOTSUP: 58,
  PERM: 63,
  ROFS: 69,
  SPIPE: 70,
  XDEV: 75,
  NOTCAPABLE: 76,
} as const;

export const FileType = {
  UNKNOWN: 0,
  CHARACTER_DEVICE: 2,
  DIRECTORY: 3,
  REGULAR_FILE: 4,
} as const;

export const OFlags = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
export const FdFlags = { APPEND: 1 } as const;
export const Whence = { SET: 0, CUR: 1, END: 2 } as const;
export const Clock = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;
export const EventType = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;
export const SubClockFlags = { ABSTIME: 1 } as const;

/** Rights that mean "this descriptor may change file contents". */
export const Rights = {
  FD_WRITE: 1n << 6n,
  FD_ALLOCATE: 1n << 8n,
  FD_FILESTAT_SET_SIZE: 1n << 22n,
  ALL: 0x1fffffffn,
} as const;
export const WRITE_RIGHTS = Rights.FD_WRITE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE;

/** The guest hands paths as UTF-8; anything longer is refused before decoding. */
export const MAX_PATH_BYTES = 4096;
