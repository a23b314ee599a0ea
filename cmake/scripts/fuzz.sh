#!/usr/bin/env bash
# Longer fuzzing campaign over mcpsse's libFuzzer targets (tests/fuzz/*.cpp).
#
#   bash cmake/scripts/fuzz.sh [DURATION] [NAME...]
#
# DURATION per target: seconds, or with a suffix: 90s, 10m, 2h (default 10m).
# NAME: fuzz target stems to run (tests/fuzz/<NAME>.cpp); default: all.
# Builds the `fuzz` preset (Clang, -fsanitize=fuzzer,address,undefined) in
# build/fuzz and runs the targets one after the other.  Each keeps its
# growing corpus in build/fuzz/tests/fuzz/work/<NAME>/corpus (seeded from
# tests/fuzz/corpus/<NAME>/) and writes crashes to .../work/<NAME>/artifacts/.
# To keep new interesting inputs, copy them into tests/fuzz/corpus/<NAME>/
# (ideally after `fuzz_<NAME> -merge=1`).  Like ctest's fuzz.<NAME>, a target
# gets -dict=tests/fuzz/<NAME>.dict when that file exists, and the flags in
# tests/fuzz/<NAME>.options (one per line, # comments), e.g. -max_len=.
#
# Environment: MCPSSE_BUILD_ROOT (default <repo>/build), MCPSSE_JOBS (2),
# MCPSSE_SKIP_SETUP=1 to skip cmake/scripts/setup-debian.sh.
# Exits non-zero if any target found a crash, leak or timeout.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
build_root=${MCPSSE_BUILD_ROOT:-$repo/build}
dir="$build_root/fuzz"
jobs=${MCPSSE_JOBS:-2}

duration=${1:-10m}
shift || true
case "$duration" in
  *h) seconds=$(( ${duration%h} * 3600 )) ;;
  *m) seconds=$(( ${duration%m} * 60 )) ;;
  *s) seconds=${duration%s} ;;
  *)  seconds=$duration ;;
esac
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "fuzz.sh: bad DURATION '$duration' (e.g. 600, 90s, 10m, 2h)" >&2
  exit 2
fi

if [[ -z ${MCPSSE_SKIP_SETUP:-} ]]; then
  bash cmake/scripts/setup-debian.sh </dev/null
fi
cmake --preset fuzz -B "$dir" >/dev/null
cmake --build "$dir" -j "$jobs" --target mcpsse_fuzz

bin="$dir/tests/fuzz"
if (($# > 0)); then
  names=("$@")
else
  names=()
  for f in tests/fuzz/*.cpp; do
    [[ -e $f ]] && names+=("$(basename "$f" .cpp)")
  done
fi
if ((${#names[@]} == 0)); then
  echo "fuzz.sh: no fuzz targets (tests/fuzz/*.cpp)"
  exit 0
fi

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
results=()
status=0
for name in "${names[@]}"; do
  exe="$bin/fuzz_$name"
  if [[ ! -x $exe ]]; then
    echo "fuzz.sh: no such fuzz target: $name" >&2
    results+=("$name: missing")
    status=1
    continue
  fi
  work="$bin/work/$name"
  mkdir -p "$work/corpus" "$work/artifacts"
  corpora=("$work/corpus")
  [[ -d tests/fuzz/corpus/$name ]] && corpora+=("$repo/tests/fuzz/corpus/$name")
  options=()
  [[ -f tests/fuzz/$name.dict ]] && options+=("-dict=$repo/tests/fuzz/$name.dict")
  if [[ -f tests/fuzz/$name.options ]]; then
    while read -r line || [[ -n $line ]]; do
      [[ -z $line || $line == \#* ]] || options+=("$line")
    done <"tests/fuzz/$name.options"
  fi
  echo
  echo "==== fuzz_$name for ${seconds}s ${options[*]} ===="
  if (cd "$work" && "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${options[@]}" "${corpora[@]}"); then
    results+=("$name: ok ($(find "$work/corpus" -type f | wc -l) corpus files)")
  else
    results+=("$name: FAILED, see $work/artifacts/")
    status=1
  fi
done

echo
echo "==== fuzz summary ===="
printf '%s\n' "${results[@]}"
exit $status
