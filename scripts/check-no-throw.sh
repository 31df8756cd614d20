#!/usr/bin/env bash
# Fails when a call that throws on bad input appears outside the parsing module (core/parse.*),
# tests, benchmarks and fuzz targets. Such a call aborts the daemon on one hostile byte; use the
# helpers in core/parse.h instead. A line that really handles only our own values may end with
# the marker `// no-throw-check: <why>`.
# Usage: scripts/check-no-throw.sh [ROOT]   (exit 1 and one line per finding when any is found)
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

rules=(
  'std::sto[a-z]+\(|\bsto(i|l|ll|ul|ull|f|d|ld)\(|lexical_cast< @@ std::sto*/lexical_cast throw on bad or huge numbers: parse::integer'
  '\.value\([^)] @@ nlohmann value(key, default) throws on a wrong type: parse::get_*/string_or'
  '\.get<|\.get_ref<|\.get_to\( @@ nlohmann/simdjson get<T>() throws on a wrong type: parse::get_*'
  '\.at\( @@ at() throws: parse::member/element, or a bounds check'
  'json::parse\( @@ json::parse throws unless exceptions are off: parse::json_text'
  '\.dump\( @@ dump() throws on invalid UTF-8: parse::dump'
  '\.as< @@ yaml-cpp as<T>() throws: parse::yaml_string/yaml_bool'
  'YAML::Load(File)?\( @@ yaml-cpp Load throws on bad YAML: parse::yaml_text/yaml_file'
  '(fs|filesystem)::(create_directories|create_directory|remove|remove_all|rename|exists|file_size|is_directory|is_regular_file|is_symlink|last_write_time|permissions|copy|copy_file|directory_iterator|recursive_directory_iterator|status|symlink_status|canonical|weakly_canonical|absolute|current_path|temp_directory_path|resize_file|space|read_symlink|equivalent)\((.*) @@ this std::filesystem overload throws: pass a std::error_code'
)

files=$(git ls-files '*.cpp' '*.h' 2>/dev/null || find . -name '*.cpp' -o -name '*.h')
files=$(printf '%s\n' $files | grep -vE '(^|/)(tests|bench|fuzz|build)/|_test\.cpp$|^core/parse\.(h|cpp)$')

found=0
for rule in "${rules[@]}"; do
  pattern=${rule%% @@ *}
  why=${rule#* @@ }
  # Code only: drop // comments (not inside strings, roughly) and marked lines.
  hits=$(printf '%s\n' $files | xargs grep -nE "$pattern" 2>/dev/null |
    grep -v 'no-throw-check:' | grep -vE '^[^:]+:[0-9]+:\s*//' )
  if [[ $pattern == *filesystem* ]]; then
    # the error_code overloads are fine
    hits=$(printf '%s\n' "$hits" | grep -vE '\bec\)|, *ec\b|error_code' )
  fi
  if [ -n "$hits" ]; then
    while IFS= read -r h; do
      [ -n "$h" ] || continue
      echo "$h"
      echo "    -> $why"
      found=$((found + 1))
    done <<<"$hits"
  fi
done
if [ "$found" -gt 0 ]; then
  echo "check-no-throw: $found throwing call(s) on untrusted input (see core/parse.h)" >&2
  exit 1
fi
echo "check-no-throw: ok"
