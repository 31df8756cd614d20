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
ctest --preset ci -j2
if [ "${1:-}" != "--no-asan" ]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  ctest --preset asan -j2 -LE no-asan
  scripts/fuzz.sh "${PODMEDIC_FUZZ_SECONDS:-20}"
fi
