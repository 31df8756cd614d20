#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan; the `fuzz` preset) and runs each for a bounded
# time from its seed corpus in fuzz/corpus/<target>/. Fails on any finding (crash, sanitizer
# report, uncaught exception, leak, timeout or out-of-memory) and leaves the input that caused
# it in build/fuzz/findings/. New inputs found during the run go to build/fuzz/corpus/ (not
# into the repo; copy the interesting ones into fuzz/corpus/ by hand).
# CI runs with a fixed seed (PODMEDIC_FUZZ_SEED, default 1) so a run is reproducible; set it to 0
# for a random one.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET (default 20)] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
for p in clang libfuzzer-14-dev; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang libfuzzer-14-dev >/dev/null
  fi
done
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
mkdir -p build/fuzz/findings
failed=0
summary=()
for t in "${targets[@]}"; do
  bin=$(find build/fuzz/fuzz -maxdepth 1 -name "$t" -type f -executable)
  [ -n "$bin" ] || { echo "fuzz: no binary for $t"; failed=1; continue; }
  work="build/fuzz/corpus/$t"
  mkdir -p "$work"
  log="build/fuzz/$t.log"
  # -timeout: one input may take at most 10 s; -rss_limit_mb bounds memory; new inputs go to
  # $work (first dir), the seeds are read-only inputs.
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$bin" -seed="${PODMEDIC_FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="build/fuzz/findings/$t-" -print_final_stats=1 \
      "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    summary+=("$t: ${execs:-?} execs in ${seconds}s, coverage ${cov:-?}, no finding")
  else
    failed=1
    summary+=("$t: FINDING (see $log and build/fuzz/findings/)")
    grep -E 'ERROR|runtime error|terminate|==[0-9]+==' "$log" | head -20 || true
  fi
done
printf 'fuzz: %s\n' "${summary[@]}"
exit $failed
