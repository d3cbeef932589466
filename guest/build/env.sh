# Shared environment of the guest build steps: the wasm32-wasi cross toolchain from
# Debian's clang-16/lld-16/wasi-libc, pointed at a private sysroot so that the host's
# /usr/include never leaks into a wasm32 compile.
set -euo pipefail
: "${TIC_SYSROOT:?TIC_SYSROOT must name the private sysroot folder}"
LLVM_BIN=/usr/lib/llvm-16/bin
export PATH="$LLVM_BIN:$PATH"
if [ ! -d "$TIC_SYSROOT/lib/wasm32-wasi" ]; then
  mkdir -p "$TIC_SYSROOT/lib"
  ln -sfn /usr/include/wasm32-wasi "$TIC_SYSROOT/include"
  ln -sfn /usr/lib/wasm32-wasi "$TIC_SYSROOT/lib/wasm32-wasi"
fi
export WASI_CC="$LLVM_BIN/clang --target=wasm32-wasi --sysroot=$TIC_SYSROOT"
export AR="$LLVM_BIN/llvm-ar"
export RANLIB="$LLVM_BIN/llvm-ranlib"
export PKG_CONFIG=/bin/false
# Reproducible output: __DATE__/__TIME__ (CPython's build info in sys.version) come from
# this fixed moment (CPython 3.11.2's release day), not from the clock; clang >= 16 reads it.
export SOURCE_DATE_EPOCH=1675728000
