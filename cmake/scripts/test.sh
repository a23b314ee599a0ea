#!/usr/bin/env bash
# mcpsse's full test run: the project's one test command (CI runs it too).
#
#   bash cmake/scripts/test.sh [CONFIG...]
#
# CONFIGs (default: gcc deps asan tsan fuzz plain, in this order), each building
# in build/<CONFIG>; all but plain are CMake presets:
#   gcc    GCC RelWithDebInfo (-O2 -g1: line tables only), -Werror: unit tests,
#          examples, benchmarks, header self-containment check, install/find_package
#          and add_subdirectory packaging tests, and the network suites (interop,
#          conformance: official clients, TLS, browsers), which run here only
#   deps   Clang Debug against the current dependency releases in
#          MCPSSE_CURRENT_DEPS_DIR (Asio 1.3x with ASIO_NO_DEPRECATED, Catch2 v3,
#          nlohmann/json 3.11.3; cmake/testing/current_deps.cmake): unit tests and
#          examples.  When that folder is absent it prints a notice and runs the
#          clang config instead, so every run has a Clang build.
#   asan   GCC Debug with MCPSSE_SANITIZE=address,undefined: unit tests
#   tsan   Clang RelWithDebInfo with MCPSSE_SANITIZE=thread: the unit tests that
#          run threads (dispatcher, server, transports; socket suites in every mode)
#   fuzz   Clang libFuzzer targets (tests/fuzz/*.cpp), smoke run: ctest -L fuzz
#   plain  no preset: exactly what a user types, `cmake -B build/plain
#          -DCMAKE_BUILD_TYPE=Release` and `cmake --build build/plain` (default
#          generator and compiler, MCPSSE_WERROR off; CMAKE_BUILD_PARALLEL_LEVEL
#          set to MCPSSE_JOBS; tests and benchmarks are off by default, so this
#          builds the library's examples), then cmake/scripts/quick_start_smoke.sh:
#          the README's quick start answers initialize and lists its tool (the
#          README-equals-file check and the official client's run are in gcc)
# Not in the default run (CI time), available by name:
#   clang  Clang Debug, -Werror, against the system packages: unit tests and examples
#   deps-asan  the deps sources, GCC Debug with ASan+UBSan: unit tests (Clang 14
#          cannot compile coroutines under ASan with debug information)
#
# Environment:
#   MCPSSE_BUILD_ROOT    where build/<CONFIG> dirs go (default: <repo>/build)
#   MCPSSE_JOBS          parallel build/test jobs (default: 2)
#   MCPSSE_FUZZ_SECONDS  seconds per fuzz target in the smoke run (default: 15)
#   MCPSSE_SKIP_SETUP=1  skip cmake/scripts/setup-debian.sh
#   MCPSSE_INTEROP_CACHE Node/npm download cache of tests/interop (default:
#                        <build root>/.interop-cache, shared by all configs)
#   MCPSSE_CURRENT_DEPS_DIR  the current dependency sources for deps and deps-asan
#                        (default: <repo>/../shared/deps, where the project's
#                        development machines keep them)
#
# Prints a per-config summary and ends with one line "N passed, N failed",
# summing ctest's results over all configs (a config that fails to configure
# or build counts as one failure).  Exits non-zero on any failure.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"

all_configs=(gcc deps asan tsan fuzz plain)
known_configs=(gcc clang asan tsan fuzz deps deps-asan plain)
build_root=${MCPSSE_BUILD_ROOT:-$repo/build}
jobs=${MCPSSE_JOBS:-2}
fuzz_seconds=${MCPSSE_FUZZ_SECONDS:-15}
deps_dir=${MCPSSE_CURRENT_DEPS_DIR:-$repo/../shared/deps}

if (($# == 0)); then
  configs=("${all_configs[@]}")
else
  configs=()
  for arg in "$@"; do
    case "$arg" in
      gcc|clang|asan|tsan|fuzz|deps|deps-asan|plain) configs+=("$arg") ;;
      -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
      *) echo "test.sh: unknown config '$arg' (expected: ${known_configs[*]})" >&2; exit 2 ;;
    esac
  done
fi

total_passed=0
total_failed=0
summary=()

note() { printf '\n==== %s ====\n' "$*"; }

if [[ -z ${MCPSSE_SKIP_SETUP:-} ]]; then
  note "setup: cmake/scripts/setup-debian.sh"
  if ! bash cmake/scripts/setup-debian.sh </dev/null; then
    echo "test.sh: dependency setup failed; continuing, builds may fail" >&2
    total_failed=$((total_failed + 1))
    summary+=("$(printf '%-6s %-26s' setup 'FAILED (dependencies)')")
  fi
fi

mkdir -p "$build_root"
export MCPSSE_INTEROP_CACHE=${MCPSSE_INTEROP_CACHE:-$build_root/.interop-cache}

for cfg in "${configs[@]}"; do
  dir="$build_root/$cfg"
  log="$dir.ctest.log"
  extra=()
  target=()
  ctest_args=(--output-on-failure --no-tests=ignore -j "$jobs")
  env_vars=()
  configure=(cmake --preset "$cfg" -B "$dir")
  # -k 0: report every broken target in one run, not just the first.
  build=(cmake --build "$dir" -j "$jobs")
  build_tool_args=(-- -k 0)
  case "$cfg" in
    clang)
      ctest_args+=(-LE '^(interop|conformance)$')
      ;;
    asan)
      env_vars=(
        "ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1"
        "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
      ;;
    tsan)
      # The tests that run threads; the preset's build lists their targets.
      target=(--target test_dispatcher test_server test_stdio_transport test_transport
              test_async_event_store test_serve test_session test_session_store test_sse_transport_http test_sse_transport_limits test_sse_transport_lifecycle test_sse_transport_pipeline
              test_sse_transport_revisions test_sse_transport_streams test_sse_transport_auth test_sse_transport_client_limits
              test_sse_transport_operations test_sse_transport_end_session test_metrics test_access_log test_resume_slot)
      ctest_args+=(-R '^unit\.(async_event_store|dispatcher|server|serve|session|session_store|stdio_transport|transport|metrics|access_log|resume_slot|sse_transport_[a-z_.]+)$')
      env_vars=("TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")
      ;;
    deps|deps-asan)
      if [[ ! -d $deps_dir ]]; then
        if [[ $cfg == deps ]]; then
          echo "test.sh: deps: no current dependency sources at $deps_dir (set MCPSSE_CURRENT_DEPS_DIR); running the clang config (system packages) instead"
          summary+=("$(printf '%-6s %-26s' deps "skipped (no $deps_dir), clang runs")")
          cfg=clang
          dir="$build_root/$cfg"
          log="$dir.ctest.log"
          configure=(cmake --preset "$cfg" -B "$dir")
          ctest_args+=(-LE '^(interop|conformance)$')
        else
          echo "test.sh: $cfg skipped: no current dependency sources at $deps_dir (set MCPSSE_CURRENT_DEPS_DIR)"
          summary+=("$(printf '%-6s %-26s' "$cfg" "skipped (no $deps_dir)")")
          continue
        fi
      else
        extra=("-DMCPSSE_CURRENT_DEPS_DIR=$(cd "$deps_dir" && pwd)")
        ctest_args+=(-L '^unit$')
      fi
      if [[ $cfg == deps-asan ]]; then
        env_vars=(
          "ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1"
          "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
      fi
      ;;
    plain)
      # What a user types: no preset, no options, CMake's default generator
      # (Makefiles, whose keep-going flag is not Ninja's -k 0) and compiler. Only
      # the parallelism comes from the environment, as a user's might.
      configure=(cmake -B "$dir" -DCMAKE_BUILD_TYPE=Release)
      build=(env "CMAKE_BUILD_PARALLEL_LEVEL=$jobs" cmake --build "$dir")
      build_tool_args=()
      ;;
    fuzz)
      extra=("-DMCPSSE_FUZZ_SECONDS=$fuzz_seconds")
      target=(--target mcpsse_fuzz)
      ctest_args+=(-L fuzz)
      env_vars=("UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
      ;;
  esac

  note "$cfg: configure (${configure[*]:1})"
  start=$SECONDS
  if ! "${configure[@]}" "${extra[@]}" </dev/null; then
    total_failed=$((total_failed + 1))
    summary+=("$(printf '%-6s %-26s' "$cfg" 'FAILED (configure)')")
    continue
  fi

  note "$cfg: build (-j$jobs)"
  if ! "${build[@]}" "${target[@]}" "${build_tool_args[@]}" </dev/null; then
    total_failed=$((total_failed + 1))
    summary+=("$(printf '%-6s %-26s build %4ds' "$cfg" 'FAILED (build)' $((SECONDS - start)))")
    continue
  fi
  build_secs=$((SECONDS - start))

  note "$cfg: ctest"
  tstart=$SECONDS
  if [[ $cfg == plain ]]; then
    # A user's build has examples and no tests: the quick start must serve its tool.
    bash cmake/scripts/quick_start_smoke.sh "$dir/bin/quick_start" </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
  else
    env "${env_vars[@]}" ctest --test-dir "$dir" "${ctest_args[@]}" </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
  fi
  test_secs=$((SECONDS - tstart))

  # "NN% tests passed, F tests failed out of T" (absent when no test ran).
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=${BASH_REMATCH[1]}
    passed=$((BASH_REMATCH[2] - failed))
  elif ((rc == 0)); then
    failed=0
    passed=0
  else
    failed=1
    passed=0
  fi
  if ((rc != 0 && failed == 0)); then
    failed=1   # ctest failed without reporting a failed test (e.g. crashed)
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  if ((failed == 0)); then status=ok; else status=FAILED; fi
  summary+=("$(printf '%-6s %-26s build %4ds  test %4ds  %d passed, %d failed' \
    "$cfg" "$status" "$build_secs" "$test_secs" "$passed" "$failed")")
done

note "summary"
printf '%s\n' "${summary[@]}"
echo
echo "$total_passed passed, $total_failed failed"
((total_failed == 0))
