#!/usr/bin/env bash
# Cross-builds zlib (Debian's orig tarball) as a static wasm32-wasi library.
# In: ZLIB_TARBALL. Out: OUT/{include,lib}. Scratch: WORK.
source "$(dirname "$0")/env.sh"
: "${ZLIB_TARBALL:?}" "${OUT:?}" "${WORK:?}"
rm -rf "$WORK" && mkdir -p "$WORK"
tar -xf "$ZLIB_TARBALL" -C "$WORK" --strip-components=1
cd "$WORK"
CC="$WASI_CC" CFLAGS="-O2" CHOST=wasm32 ./configure --static --prefix="$OUT"
make -j"$(nproc)" libz.a
mkdir -p "$OUT/lib" "$OUT/include"
cp libz.a "$OUT/lib/"
cp zlib.h zconf.h "$OUT/include/"
