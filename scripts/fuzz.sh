#!/usr/bin/env bash
# Runs one cargo-fuzz target for a time budget (SECONDS, or FUZZ_RUNS executions, default
# 10,000,000, whichever comes first), starting from the corpus kept in the repository
# (fuzz/kept/<target>) and the target's seeds, then minimises what it has into fuzz/kept/<target>
# again, capped in size, so the next run starts where this one ended.
#
#   scripts/fuzz.sh TARGET SECONDS [extra cargo-fuzz flags, e.g. --dev]
#
# `make fuzz` runs every target this way (FUZZ_TIME seconds each, TARGET=name for one). Prints
# libFuzzer's last status line and a summary: executions, coverage (edges), corpus kept.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

target=$1
seconds=$2
shift 2
nightly=${FUZZ_NIGHTLY:-nightly-2026-05-20}
# The corpus kept in the repository, per target: at most this many bytes (smallest inputs first).
cap=${FUZZ_KEEP_BYTES:-262144}
runs=${FUZZ_RUNS:-10000000}

seeds=()
dict=()
case $target in
  form_callback) seeds=(fuzz/seeds/form_callback) ;;
  expression) seeds=(fuzz/seeds/expression); dict=(-dict=fuzz/dict/expression.dict) ;;
  rules) seeds=(rules); dict=(-dict=fuzz/dict/rules.dict) ;;
  handler) seeds=(events) ;;
  workflow) seeds=(workflows/examples); dict=(-dict=fuzz/dict/workflow.dict) ;;
  workspace) seeds=(fuzz/seeds/workspace); dict=(-dict=fuzz/dict/workflow.dict) ;;
  rest_answers) seeds=(fuzz/seeds/rest_answers) ;;
  sim_rest) seeds=(fuzz/seeds/sim_rest) ;;
  replay_input) seeds=(fuzz/seeds/replay_input) ;;
  deferred) seeds=(fuzz/seeds/deferred) ;;
  *) echo "fuzz.sh: no target named \`$target\`" >&2; exit 2 ;;
esac

work=fuzz/corpus/$target
kept=fuzz/kept/$target
mkdir -p "$work" "$kept"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

started=$(date +%s)
# The fuzzer's own exit status, not the filter's: a crash is exit 1 (or libFuzzer's code).
set +e
cargo +"$nightly" fuzz run "$@" "$target" "$work" "$kept" "${seeds[@]}" -- \
  -max_total_time="$seconds" -runs="$runs" -print_final_stats=1 "${dict[@]}" 2>&1 | tee "$log" | grep -E '^#[0-9]+.*(INITED|DONE)|ERROR|panicked'
status=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - started ))

# Minimise: the smallest set of inputs that keeps the coverage, then the cap.
merged=$(mktemp -d)
cargo +"$nightly" fuzz cmin "$@" "$target" "$work" -- -max_total_time=120 >/dev/null 2>&1 || true
# (awk reads every line rather than stopping at the cap: an early exit would end `sort` with
# SIGPIPE, which `pipefail` makes fatal.)
find "$work" -type f -printf '%s %p\n' | sort -n | awk -v cap="$cap" '{ total += $1; if (total <= cap) print $2 }' |
  while read -r file; do cp "$file" "$merged/"; done
rm -rf "$kept"
mkdir -p "$kept"
cp "$merged"/* "$kept"/ 2>/dev/null || true
rm -rf "$merged"

executed=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
first=$(grep -E 'INITED' "$log" | grep -oE 'cov: [0-9]+' | head -1 | grep -oE '[0-9]+')
echo "fuzz.sh: $target: ${executed:-?} executions in ${elapsed} s (budget ${seconds} s or ${runs}), coverage ${first:-?} -> ${cov:-?} edges, kept $(ls "$kept" | wc -l) inputs ($(find "$kept" -type f -printf '%s\n' | awk '{ total += $1 } END { print total + 0 }') bytes), exit ${status}"
exit "$status"
