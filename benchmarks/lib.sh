#!/usr/bin/env bash
# Shell functions shared by the benchmark scripts (side_by_side.sh, bridge.sh,
# scale_out.sh); source it after defining `log` and `idle_budget`.
#
# cpu_busy: percentage of the machine's CPU time used by anything during
#   CPU_BUSY_SPAN seconds (default 0.5; idle servers of a benchmark use ~0).
# wait_idle: waits, 5 s at a time and `idle_budget` seconds in all (it counts down),
#   while others use 25 % or more of the CPUs, so rounds are not measured while
#   something else compiles; sets LAST_BUSY to the last sample and counts a round
#   measured busy anyway in `busy_runs`.

busy_runs=0
# shellcheck disable=SC2034  # read by the scripts that source this file
LAST_BUSY=0

cpu_busy() {
  local a b total=0 idle i
  read -r -a a < <(head -n1 /proc/stat)
  sleep "${CPU_BUSY_SPAN:-0.5}"
  read -r -a b < <(head -n1 /proc/stat)
  for ((i = 1; i < ${#a[@]}; i++)); do total=$((total + b[i] - a[i])); done
  idle=$((b[4] - a[4] + b[5] - a[5]))
  ((total > 0)) || { echo 0; return; }
  echo $((100 * (total - idle) / total))
}

wait_idle() {
  local busy
  busy="$(cpu_busy)"
  while ((busy >= 25 && idle_budget > 0)); do
    log "machine busy (${busy}% CPU used by others); waiting (budget ${idle_budget}s)"
    sleep 5
    idle_budget=$((idle_budget - 5))
    busy="$(cpu_busy)"
  done
  # shellcheck disable=SC2034
  LAST_BUSY="$busy"
  if ((busy >= 25)); then busy_runs=$((busy_runs + 1)); fi
}
