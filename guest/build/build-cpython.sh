#!/usr/bin/env bash
# Cross-builds CPython 3.11 (Debian's orig tarball) for wasm32-wasi, all extension
# modules static, zlib linked in. The configured build tree itself is the output: the
# link step takes libpython and the Makefile's library flags from it.
# In: CPYTHON_TARBALL, PATCHES (a folder of -p1 patches), ZLIB_PREFIX, BUILD_PYTHON.
# Out: OUT (the build tree).
source "$(dirname "$0")/env.sh"
: "${CPYTHON_TARBALL:?}" "${PATCHES:?}" "${ZLIB_PREFIX:?}" "${BUILD_PYTHON:?}" "${OUT:?}"
rm -rf "$OUT" && mkdir -p "$OUT"
tar -xzf "$CPYTHON_TARBALL" -C "$OUT" --strip-components=1
cd "$OUT"
for p in "$PATCHES"/*.patch; do
  echo "applying $(basename "$p")"
  patch -p1 --forward --batch < "$p"
done
touch Modules/Setup.local
# clang 16 turns -Wint-conversion into an error; wasi-libc 2022's clock macros trip it.
CONFIG_SITE=Tools/wasm/config.site-wasm32-wasi \
CC="$WASI_CC" CPP="$WASI_CC -E" \
CFLAGS="-O2 -Wno-error=int-conversion -Wno-int-conversion" \
ZLIB_CFLAGS="-I$ZLIB_PREFIX/include" ZLIB_LIBS="-L$ZLIB_PREFIX/lib -lz" \
  ./configure --host=wasm32-unknown-wasi --build="$(./config.guess)" \
    --with-build-python="$BUILD_PYTHON" --disable-ipv6 --disable-test-modules \
    --without-ensurepip --with-suffix=.wasm
grep -q '^zlib ' Modules/Setup.stdlib || { echo "error: configure did not enable zlib" >&2; exit 1; }
make -j"$(nproc)" libpython3.11.a pybuilddir.txt
