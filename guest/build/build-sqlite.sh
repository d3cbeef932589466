#!/usr/bin/env bash
# Cross-builds SQLite (Debian's orig tarball of sqlite3: the full source tree) as a static
# wasm32-wasi library. The tree generates its amalgamation, sqlite3.c, with host tools
# (lemon, Tcl scripts); the amalgamation is then compiled for wasm32-wasi.
# In: SQLITE_TARBALL. Out: OUT/{include,lib}. Scratch: WORK.
#
# SQLite 3.40 predates upstream WASI support; what its unix VFS needs and WASI lacks:
# - locking: WASI has no fcntl() locks, so the default VFS is "unix-dotfile" (a lock is
#   a `<db>.lock` entry next to the database; one writer at a time, readers wait too),
#   which is correct for a session's single process. The F_* constants below only let
#   the unused fcntl-lock code compile.
# - no threads (THREADSAFE=0), no shared memory (no WAL, no mmap), no dlopen;
#   temporary tables and indices stay in memory, never in the workspace.
# - fchmod/fchown fail with ENOTSUP and geteuid() names a non-root user, so SQLite
#   never tries to change a file's owner.
source "$(dirname "$0")/env.sh"
: "${SQLITE_TARBALL:?}" "${OUT:?}" "${WORK:?}"
rm -rf "$WORK" && mkdir -p "$WORK/native"
tar -xJf "$SQLITE_TARBALL" -C "$WORK" --strip-components=1
cd "$WORK/native"
CC="$LLVM_BIN/clang" ../configure --disable-tcl --disable-readline --disable-threadsafe >/dev/null
make sqlite3.c
cat > wasi-compat.h <<'H'
#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
static int fchmod(int fd, mode_t mode) { (void)fd; (void)mode; errno = ENOTSUP; return -1; }
static int fchown(int fd, uid_t uid, gid_t gid) { (void)fd; (void)uid; (void)gid; errno = ENOTSUP; return -1; }
static uid_t geteuid(void) { return 1; }
H
# Shared-cache support stays in: CPython's configure requires sqlite3_enable_shared_cache.
$WASI_CC -O2 -include ./wasi-compat.h -D_WASI_EMULATED_GETPID \
  -DSQLITE_DEFAULT_UNIX_VFS='"unix-dotfile"' -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_WAL \
  -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_TEMP_STORE=3 -DSQLITE_OMIT_LOAD_EXTENSION \
  -DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_ENABLE_FTS5 \
  -c sqlite3.c -o sqlite3.o
mkdir -p "$OUT/lib" "$OUT/include"
"$AR" rcs "$OUT/lib/libsqlite3.a" sqlite3.o
cp sqlite3.h sqlite3ext.h "$OUT/include/"
# Only the library stays in the cache, not the sources.
rm -rf "$WORK"
