#!/usr/bin/env bash
# Links the tooliscode shim with the cross-built libpython into a WASI reactor module.
# In: CPYTHON_BUILD (the tree of build-cpython.sh), SHIM (tic_shim.c). Out: OUT/core.wasm.
source "$(dirname "$0")/env.sh"
: "${CPYTHON_BUILD:?}" "${SHIM:?}" "${OUT:?}"
mkdir -p "$OUT"
cd "$CPYTHON_BUILD"
makevar() { make -s --no-print-directory -f Makefile -f - "print-$1" <<<'print-%: ; @echo $($*)'; }
$WASI_CC -O2 -g0 -I. -IInclude -c "$SHIM" -o "$OUT/tic_shim.o"
# No crt1 and no _initialize: tic_init runs the constructors itself (see tic_shim.c).
# --wrap: the shim decides where randomness, time and (while snapshotting) file metadata
# come from, caps the heap, and zeroes what is freed while snapshotting.
# shellcheck disable=SC2046
$WASI_CC -nostartfiles -Wl,--no-entry -Wl,--strip-debug \
  -Wl,--wrap=__wasi_random_get -Wl,--wrap=__wasi_clock_time_get -Wl,--wrap=sbrk -Wl,--wrap=free \
  -Wl,--wrap=__wasi_fd_filestat_get -Wl,--wrap=__wasi_path_filestat_get \
  -z stack-size=4194304 -Wl,--stack-first -Wl,--initial-memory=14680064 \
  -o "$OUT/core.wasm" "$OUT/tic_shim.o" libpython3.11.a \
  $(makevar MODLIBS) $(makevar LIBS) $(makevar SYSLIBS)
rm "$OUT/tic_shim.o"
