#!/usr/bin/env bash
# Builds everything (warnings as errors) and runs the whole test suite, then the ASan+UBSan suite,
# then every libFuzzer target for a bounded time (PODMEDIC_FUZZ_SECONDS each, default 20).
# Usage: scripts/test.sh [--no-asan]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tools
export PATH="$PWD/.tools/bin:$PATH"
cmake --preset ci >/dev/null
cmake --build --preset ci
# The container image test (label image) builds podmedic again inside a debootstrap base: ~30 min
# cold on 2 cores, so it runs on its own (scripts/image-test.sh), not in this suite.
ctest --preset ci -j2 -LE image
if [ "${1:-}" != "--no-asan" ]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  ctest --preset asan -j2 -LE no-asan
  scripts/fuzz.sh "${PODMEDIC_FUZZ_SECONDS:-20}"
fi
