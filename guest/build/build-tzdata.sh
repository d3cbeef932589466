#!/usr/bin/env bash
# Compiles the IANA time-zone database (Debian's orig tarball of tzdata: the text
# sources) with zic into the `tzdata` resource package that `zoneinfo` falls back to
# when no TZPATH folder has a zone: the same layout as PyPI's tzdata, so it goes into
# the stdlib archive like any package.
# In: TZDATA_TARBALL. Out: OUT/tzdata/ (a Python package). Scratch: WORK.
source "$(dirname "$0")/env.sh"
: "${TZDATA_TARBALL:?}" "${OUT:?}" "${WORK:?}"
rm -rf "$WORK" && mkdir -p "$WORK"
tar -xzf "$TZDATA_TARBALL" -C "$WORK"
cd "$WORK"
version="$(cat version)"
pkg="$OUT/tzdata"
rm -rf "$pkg" && mkdir -p "$pkg"
# The main regions plus `backward` (old names, as links): IANA's default set. Slim TZif
# (version 2+ data with a footer rule), which zoneinfo reads.
/usr/sbin/zic -d "$pkg/zoneinfo" -b slim \
  africa antarctica asia australasia europe northamerica southamerica etcetera backward factory
cd "$pkg"
# importlib.resources finds resources of regular packages only: one per folder.
find zoneinfo -type d -exec touch '{}/__init__.py' \;
find zoneinfo -type f ! -name '__init__.py' | sed 's|^zoneinfo/||' | LC_ALL=C sort > zones
cat > __init__.py <<PY
"""The IANA time-zone database $version, compiled from Debian's tzdata sources."""

IANA_VERSION = "$version"
__version__ = IANA_VERSION
PY
echo "tzdata $version: $(wc -l < zones) zones"
# Only the package stays in the cache, not the sources.
rm -rf "$WORK"
