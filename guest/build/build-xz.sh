#!/usr/bin/env bash
# Cross-builds liblzma (Debian's orig tarball of xz-utils) as a static wasm32-wasi library,
# single-threaded, without the xz programs.
# In: XZ_TARBALL. Out: OUT/{include,lib}. Scratch: WORK.
source "$(dirname "$0")/env.sh"
: "${XZ_TARBALL:?}" "${OUT:?}" "${WORK:?}"
rm -rf "$WORK" && mkdir -p "$WORK"
tar -xJf "$XZ_TARBALL" -C "$WORK" --strip-components=1
cd "$WORK"
# Without threads, mythread.h wraps sigprocmask(), which WASI does not have: leave it out.
sed -i 's|^#if !(defined(_WIN32) \&\& !defined(__CYGWIN__))$|& \&\& !defined(__wasi__)|' src/common/mythread.h
grep -q 'defined(__CYGWIN__)) && !defined(__wasi__)' src/common/mythread.h || { echo "error: mythread.h did not take the WASI change" >&2; exit 1; }
CC="$WASI_CC" CFLAGS="-O2" ./configure --host=wasm32-unknown-wasi --prefix="$OUT" \
  --enable-static --disable-shared --disable-threads --disable-xz --disable-xzdec \
  --disable-lzmadec --disable-lzmainfo --disable-lzma-links --disable-scripts --disable-doc \
  --disable-nls --disable-rpath
make -j"$(nproc)" -C src/liblzma
make -C src/liblzma install
rm -rf "$OUT/lib/pkgconfig" "$OUT/lib/"*.la
# Only the library stays in the cache, not the sources.
rm -rf "$WORK"
