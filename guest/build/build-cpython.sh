#!/usr/bin/env bash
# Cross-builds CPython 3.11 (Debian's orig tarball) for wasm32-wasi, all extension
# modules static, zlib, libbz2, liblzma and SQLite linked in. The configured build tree
# itself is the output: the link step takes libpython and the Makefile's library flags
# from it.
# In: CPYTHON_TARBALL, PATCHES (a folder of -p1 patches), BUILD_PYTHON, and the
# {include,lib} prefixes of the libraries: ZLIB_PREFIX, BZIP2_PREFIX, XZ_PREFIX, SQLITE_PREFIX.
# Out: OUT (the build tree).
source "$(dirname "$0")/env.sh"
: "${CPYTHON_TARBALL:?}" "${PATCHES:?}" "${ZLIB_PREFIX:?}" "${BZIP2_PREFIX:?}" "${XZ_PREFIX:?}" "${SQLITE_PREFIX:?}" "${BUILD_PYTHON:?}" "${OUT:?}"
rm -rf "$OUT" && mkdir -p "$OUT"
tar -xzf "$CPYTHON_TARBALL" -C "$OUT" --strip-components=1
cd "$OUT"
for p in "$PATCHES"/*.patch; do
  echo "applying $(basename "$p")"
  patch -p1 --forward --batch < "$p"
done
touch Modules/Setup.local
# pymalloc: configure turns it off for WASI by default; without mmap its arenas come from
# malloc (obmalloc.c's _PyObject_ArenaMalloc), and small objects skip dlmalloc.
# clang 16 turns -Wint-conversion into an error; wasi-libc 2022's clock macros trip it.
CONFIG_SITE=Tools/wasm/config.site-wasm32-wasi \
CC="$WASI_CC" CPP="$WASI_CC -E" \
CFLAGS="-O2 -Wno-error=int-conversion -Wno-int-conversion" \
ZLIB_CFLAGS="-I$ZLIB_PREFIX/include" ZLIB_LIBS="-L$ZLIB_PREFIX/lib -lz" \
BZIP2_CFLAGS="-I$BZIP2_PREFIX/include" BZIP2_LIBS="-L$BZIP2_PREFIX/lib -lbz2" \
LIBLZMA_CFLAGS="-I$XZ_PREFIX/include" LIBLZMA_LIBS="-L$XZ_PREFIX/lib -llzma" \
LIBSQLITE3_CFLAGS="-I$SQLITE_PREFIX/include" LIBSQLITE3_LIBS="-L$SQLITE_PREFIX/lib -lsqlite3" \
  ./configure --host=wasm32-unknown-wasi --build="$(./config.guess)" \
    --with-build-python="$BUILD_PYTHON" --disable-ipv6 --disable-test-modules \
    --without-ensurepip --with-suffix=.wasm --with-pymalloc
for mod in zlib _bz2 _lzma _sqlite3; do
  grep -q "^$mod " Modules/Setup.stdlib || { echo "error: configure did not enable $mod (see config.log)" >&2; exit 1; }
done
make -j"$(nproc)" libpython3.11.a pybuilddir.txt
