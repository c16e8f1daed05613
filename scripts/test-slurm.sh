#!/bin/bash
# `ggep submit` / `ggep status` end to end on a real (one-node, local) Slurm: `make test-slurm`.
#
#   1. starts scripts/slurm-local.sh (installs slurm-wlm + munge if missing); builds ggep (release)
#   2. a small config as 3 shards with --wait: the merged file has every job once, and its /runs
#      equal a local `ggep run` of the same config (same keys, identical numbers)
#   3. one array task cancelled before it runs: the merge job never runs; a second submit
#      resubmits only that shard (--array=1) and completes the set
#   4. --dry-run prints a valid bash script naming every shard, and submits nothing
#   5. errors: sbatch missing, sbatch refusing (its message quoted)
# Ends with "N passed, N failed"; exit status 1 on any failure. The local Slurm is always stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
GGEP=$PWD/.build/release/ggep
tmp=$(mktemp -d /tmp/ggep-test-slurm.XXXXXX)
passed=0
failed=0

cleanup() {
  scripts/slurm-local.sh stop || true
  rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "ok: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }
# check NAME COMMAND…: one test step; its output is shown only when it fails.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name"; echo "$out" | sed 's/^/    /'; fi
}

scripts/slurm-local.sh start
[ -x "$GGEP" ] || swift build -c release --product ggep
swift build -c release --product ggep 2>&1 | tail -1

# A small config: linear generator (exact projection), both methods, 3 values of m; seconds.
cat > "$tmp/slurm-smoke.yaml" <<'EOF'
name: slurm-smoke
seed: 2024
trials: 2
generator: {kind: linear, n: 128, k: 6, seed: 1}
signal: {source: generator, count: 3}
m: 100
problem: {kind: spiked, beta: 2}
algorithm: {kind: prfm, eta: 0.2, iterations: 20}
sweep:
  problem: [{kind: spiked, beta: 2}, {kind: phase-retrieval, link: square}]
  algorithm: [{kind: prfm, eta: 0.2, iterations: 20}, {kind: ppower, iterations: 20}]
  m: [50, 100, 200]
EOF
config=$tmp/slurm-smoke.yaml

# Same /runs in both files: every planned job exactly once, same keys, every column equal
# (floats bitwise, NaN = NaN) except wall_time.
compare() {
  "$PYTHON" - "$1" "$2" <<'EOF'
import sys, h5py, numpy as np
def runs(path):
    with h5py.File(path) as f:
        cols = {k: (d.asstr()[()] if h5py.check_string_dtype(d.dtype) else d[()]) for k, d in f["runs"].items()}
        return cols, int(f.attrs["planned_jobs"])
(a, planned), (b, _) = runs(sys.argv[1]), runs(sys.argv[2])
keys_a, keys_b = list(a["job_key"]), list(b["job_key"])
assert len(keys_a) == len(set(keys_a)) == planned, f"{sys.argv[1]}: {len(keys_a)} rows, {len(set(keys_a))} keys, {planned} planned"
assert keys_a == keys_b, "job keys (or their order) differ"
assert sorted(a) == sorted(b), f"columns differ: {sorted(set(a) ^ set(b))}"
for name in a:
    if name == "wall_time": continue
    x, y = np.asarray(a[name]), np.asarray(b[name])
    same = (x.view(np.int64) == y.view(np.int64)) if x.dtype == np.float64 else (x == y)
    assert np.all(same), f"column {name} differs in {int(np.sum(~same))} rows"
assert np.all(a["status"] == "ok"), "failed jobs"
print(f"{planned} jobs, identical")
EOF
}

echo "== local reference run"
"$GGEP" run "$config" --out "$tmp/local" --jobs 2 | tail -1

echo "== 3 shards on Slurm, --wait"
t0=$(date +%s)
if "$GGEP" submit "$config" --shards 3 --out "$tmp/cluster" --wait > "$tmp/submit1.txt" 2>&1; then
  pass "submit --wait: exit 0 ($(( $(date +%s) - t0 )) s)"
else
  fail "submit --wait"
fi
cat "$tmp/submit1.txt"
check "submit printed --array=0-2" grep -q -- "--array=0-2" "$tmp/submit1.txt"
check "merged file: every job once, /runs equal to the local run" compare "$tmp/cluster/results.h5" "$tmp/local/results.h5"
check "status: merged file current" grep -qE "is current: ([0-9]+) of \\1 jobs, 0 failed$" <("$GGEP" status "$tmp/cluster")
check "resubmitting a complete set submits nothing" grep -q "nothing to submit" <("$GGEP" submit "$config" --shards 3 --out "$tmp/cluster")

echo "== one array task cancelled before it runs"
"$GGEP" submit "$config" --shards 3 --out "$tmp/cancel" --sbatch-arg=--hold > "$tmp/submit2.txt"
cat "$tmp/submit2.txt"
array=$(sed -n 's/^array job \([0-9]*\).*/\1/p' "$tmp/submit2.txt")
merge=$(sed -n 's/^merge job \([0-9]*\).*/\1/p' "$tmp/submit2.txt")
scancel "${array}_1"
scontrol release "${array}_0" "${array}_2"
for _ in $(seq 120); do
  [ -z "$(squeue -h -j "$array" 2>/dev/null)" ] && break
  sleep 0.5
done
# The merge job (held too, by --hold) is released: its afterok can never be met, so Slurm
# cancels it (--kill-on-invalid-dep=yes); cancel it here if it is still pending.
scontrol release "$merge" 2>/dev/null || true
state=""
for _ in $(seq 20); do
  state=$(scontrol show job "$merge" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  [ "$state" = PENDING ] || break
  sleep 0.5
done
[ "$state" = PENDING ] && scancel "$merge"
check "merge job did not run (state $state)" test "$state" = CANCELLED -o "$state" = PENDING
check "no merged file after the cancelled task" test ! -e "$tmp/cancel/results.h5"
"$GGEP" status "$tmp/cancel" | tee "$tmp/status2.txt"
check "status: shard 1/3 incomplete, 0/3 and 2/3 complete" \
  bash -c "grep -q '^1/3 .*(incomplete)' $tmp/status2.txt && ! grep -q '^0/3 .*(incomplete)' $tmp/status2.txt && ! grep -q '^2/3 .*(incomplete)' $tmp/status2.txt"
if "$GGEP" submit "$config" --shards 3 --out "$tmp/cancel" --wait > "$tmp/submit3.txt" 2>&1; then
  pass "second submit --wait: exit 0"
else
  fail "second submit --wait"
fi
cat "$tmp/submit3.txt"
check "second submit resubmitted only shard 1 (--array=1)" grep -q -- "resubmitting --array=1$" "$tmp/submit3.txt"
check "completed set: every job once, /runs equal to the local run" compare "$tmp/cancel/results.h5" "$tmp/local/results.h5"

echo "== --dry-run"
jobs_before=$(squeue -h | wc -l)
"$GGEP" submit "$config" --shards 3 --out "$tmp/dry" --partition debug --time 00:05:00 --dry-run > "$tmp/dry.sh"
check "--dry-run output is valid bash" bash -n "$tmp/dry.sh"
check "--dry-run names every shard" bash -c "for i in 0 1 2; do grep -q \"^# shard \$i/3 -> $tmp/dry/shards/\$i-of-3 \" $tmp/dry.sh || exit 1; done"
check "--dry-run wrote both scripts, valid bash" bash -c "bash -n $tmp/dry/slurm/array.sh && bash -n $tmp/dry/slurm/merge.sh"
check "--dry-run submitted nothing" test "$(squeue -h | wc -l)" = "$jobs_before"

echo "== errors"
out=$(PATH=/nonexistent "$GGEP" submit "$config" --shards 2 --out "$tmp/err" 2>&1) && fail "sbatch missing: exit 0" ||
  check "sbatch missing: clear error" grep -q "sbatch. not found on PATH" <<<"$out"
out=$("$GGEP" submit "$config" --shards 2 --out "$tmp/err" --partition nosuch 2>&1) && fail "sbatch refusing: exit 0" ||
  check "sbatch refusing: its stderr quoted" grep -q "invalid partition" <<<"$out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
