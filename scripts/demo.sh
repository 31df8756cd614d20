#!/usr/bin/env bash
# Builds podmedic and starts `podmedic demo`: an embedded simulated cluster whose workloads break
# and recover, watched by the real pipeline. Ctrl-C to stop.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target podmedic
exec build/release/app/podmedic demo "$@"
