#!/usr/bin/env bash
# Cross-builds libbz2 (Debian's orig tarball of bzip2) as a static wasm32-wasi library.
# In: BZIP2_TARBALL. Out: OUT/{include,lib}. Scratch: WORK.
source "$(dirname "$0")/env.sh"
: "${BZIP2_TARBALL:?}" "${OUT:?}" "${WORK:?}"
rm -rf "$WORK" && mkdir -p "$WORK"
tar -xzf "$BZIP2_TARBALL" -C "$WORK" --strip-components=1
cd "$WORK"
# Only the library: the bzip2 programs want signals and stat calls WASI lacks.
make -j"$(nproc)" libbz2.a CC="$WASI_CC" AR="$AR" RANLIB="$RANLIB" CFLAGS="-O2 -D_FILE_OFFSET_BITS=64"
mkdir -p "$OUT/lib" "$OUT/include"
cp libbz2.a "$OUT/lib/"
cp bzlib.h "$OUT/include/"
# Only the library stays in the cache, not the sources.
rm -rf "$WORK"
