#!/bin/bash
# The fault battery, run by `make test`: what a new user did to ggep, and what a
# machine does to it. Every case runs the release binary as a user would and asserts
#   * the exit status,
#   * the message (a pattern), and that it is worded for the user: no backtrace, no
#     "Fatal error", no Foundation "Error Domain=…",
#   * that every results file written before it is byte for byte unchanged and opens with h5py.
#
#   scripts/fault-battery.sh            (after `swift build -c release --product ggep`)
#
# Ends with "N passed, N failed"; exit status 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
PYTHON=${PYTHON:-python3}
GGEP=${GGEP:-$root/.build/release/ggep}
H5="$PYTHON $root/scripts/h5tool.py"
tmp=$(mktemp -d /tmp/ggep-faults.XXXXXX)
chmod 755 "$tmp"
passed=0
failed=0
mounted=""

cleanup() {
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null
  chmod -R u+w "$tmp" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "ok: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }

# Files that no case may change: path -> sha256 at the time they were protected.
declare -A protected=()
protect() { for f in "$@"; do protected[$f]=$(sha256sum "$f" | cut -d' ' -f1); done; }
check_protected() {
  local name=$1 f bad=""
  for f in "${!protected[@]}"; do
    [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" = "${protected[$f]}" ] || bad+=" $f (changed)"
  done
  [ ${#protected[@]} -eq 0 ] || $H5 opens "${!protected[@]}" >/dev/null 2>&1 || bad+=" (a protected file does not open with h5py)"
  [ -z "$bad" ] || { fail "$name: earlier results$bad"; return 1; }
}

# expect NAME STATUS PATTERN COMMAND…: runs COMMAND, checks its exit status, that its output
# (stdout and stderr) matches the extended regex PATTERN, that it holds no crash or raw
# Foundation error, and that protected files are unchanged.
expect() {
  local name=$1 status=$2 pattern=$3 out code
  shift 3
  out=$("$@" 2>&1)
  code=$?
  local problems=""
  [ "$code" = "$status" ] || problems+=" exit $code, expected $status;"
  echo "$out" | grep -qE -- "$pattern" || problems+=" no match for /$pattern/;"
  if echo "$out" | grep -qE "Fatal error|Program crashed|Error Domain=|Backtrace|Stack dump"; then problems+=" a crash or raw error;"; fi
  if [ -n "$problems" ]; then
    fail "$name:$problems"
    echo "$out" | tail -n 12 | sed 's/^/    /'
    return 1
  fi
  check_protected "$name" && pass "$name"
}

# check NAME COMMAND…: a plain assertion.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name"; echo "$out" | tail -n 12 | sed 's/^/    /'; fi
}

[ -x "$GGEP" ] || { echo "build first: swift build -c release --product ggep"; exit 1; }

# as_reader COMMAND…: runs COMMAND as a user who may read but not write the folders made here
# (nobody, when this script runs as root, which ignores permissions; else the caller, with the
# folders made read-only by read_only).
if [ "$(id -u)" = 0 ]; then
  as_reader() { runuser -u nobody -- "$@"; }
  read_only() { :; }
  writable() { :; }
else
  as_reader() { "$@"; }
  read_only() { chmod a-w "$@"; }
  writable() { chmod u+w "$@"; }
fi

# --- Configs -------------------------------------------------------------------------------
cat > "$tmp/small.yaml" <<'EOF'
name: small
seed: 3
trials: 2
m: 60
signal: {source: generator, count: 3}
generator: {kind: linear, n: 64, k: 4}
problem: {kind: spiked}
algorithm: {kind: prfm, iterations: 20}
sweep:
  algorithm: [{kind: prfm, eta: 0.05, iterations: 20}, {kind: prfm, eta: 0.1, iterations: 20}, {kind: prfm, eta: 0.2, iterations: 20}, {kind: ppower, iterations: 20}]
  m: [40, 80]
EOF
cat > "$tmp/other.yaml" <<'EOF'
name: other
seed: 4
m: 50
signal: {source: generator, count: 2}
generator: {kind: linear, n: 32, k: 3}
problem: {kind: spiked}
algorithm: {kind: ppower}
EOF
# Takes a few seconds: for the lock and SIGTERM cases.
cat > "$tmp/slow.yaml" <<'EOF'
name: slow
seed: 5
m: 4000
signal: {source: generator, count: 2}
generator: {kind: linear, n: 600, k: 4}
problem: {kind: spiked}
algorithm: {kind: prfm, iterations: 300}
sweep:
  m: [4000, 4001, 4002, 4003, 4004, 4005, 4006, 4007, 4008, 4009, 4010, 4011]
EOF
cat > "$tmp/nosweep.yaml" <<'EOF'
name: nosweep
m: 100
signal: {source: generator, count: 2}
generator: {kind: linear, n: 50, k: 4}
problem: {kind: spiked}
algorithm: {kind: prfm}
EOF
vae_config() {  # vae_config MODEL: a tiny VAE config (2 images, few steps)
  cat <<EOF
name: vae-faults
seed: 1
m: 100
generator: {kind: vae-mnist, model: $1}
signal: {source: mnist, count: 2, seed: 7, data: $root/data/mnist}
problem: {kind: spiked, beta: 2}
algorithm: {kind: prfm, eta: 0.2, iterations: 3}
projection: {method: adam, mode: cosine, steps: 10, restarts: 2}
sweep:
  m: [100, 120, 140, 160, 180, 200]
EOF
}

# --- Results written before the faults: every case must leave these alone --------------------
"$GGEP" run "$tmp/small.yaml" --out "$tmp/good" --jobs 2 >/dev/null 2>&1 || { echo "could not make the reference results"; exit 1; }
"$GGEP" run "$tmp/other.yaml" --out "$tmp/oth" >/dev/null 2>&1
protect "$tmp/good/results.h5" "$tmp/oth/results.h5"
good=$tmp/good/results.h5

# 1. merge never replaces an existing file without --force, and never loses a job.
expect "merge: an existing OUTPUT not among the inputs is refused" 1 "already exists \(48 job\(s\) of small.*add --force" \
  "$GGEP" merge "$good" "$tmp/oth/results.h5"
cp "$good" "$tmp/copy.h5"
expect "merge: OUTPUT among its own inputs keeps every job" 0 "merged 1 file\(s\): 48 of 48" "$GGEP" merge "$tmp/copy.h5" "$tmp/copy.h5"
expect "merge --force: says what it replaced" 0 "replaced the earlier .*it held 48 job\(s\), all of them in the merge" \
  "$GGEP" merge --force "$tmp/copy.h5" "$good"
expect "merge: files of different configs are refused" 1 "different config" "$GGEP" merge "$tmp/m.h5" "$good" "$tmp/oth/results.h5"

# 2. verify recomputes every /runs column and checks each row against its job.
cp -r "$tmp/good" "$tmp/edited"
$H5 edit-cell "$tmp/edited/results.h5" cosine 5 0.1235
key5=$($H5 column "$tmp/edited/results.h5" job_key | sed -n 6p)
expect "verify: a changed /runs/cosine is named with its job" 1 "job $key5: /runs/cosine" "$GGEP" verify "$tmp/edited/results.h5"
expect "verify --sample: the row check still finds it" 1 "job $key5: /runs/cosine is 0.1235, but cosine_history ends with" \
  "$GGEP" verify "$tmp/edited/results.h5" --sample 1 --seed 11
expect "verify: an unchanged file passes" 0 "verified 48 job\(s\)" "$GGEP" verify "$good"

# 3. Provenance names the BLAS core and CPU; verify names a different core as the cause.
check "provenance: blas_core and cpu_model recorded" bash -c "[ -n \"\$($H5 attr $good blas_core)\" ] && [ -n \"\$($H5 attr $good cpu_model)\" ]"
cp -r "$tmp/edited" "$tmp/othercore"
$H5 set-attr "$tmp/othercore/results.h5" blas_core NotThisCore
expect "verify: a file from another BLAS core names the core as the likely cause" 1 "BLAS kernels: the file was written with OpenBLAS core NotThisCore" \
  "$GGEP" verify "$tmp/othercore/results.h5"
# The same config under another OpenBLAS kernel (Sandybridge runs on every AVX CPU): a real file
# of another core. Its numbers may or may not differ in the last bits; when they do, verify says why.
if OPENBLAS_CORETYPE=Sandybridge "$GGEP" run "$tmp/small.yaml" --out "$tmp/sandy" >/dev/null 2>&1; then
  core=$($H5 attr "$tmp/sandy/results.h5" blas_core)
  check "OPENBLAS_CORETYPE=Sandybridge is recorded as the core" test "$core" = Sandybridge
  if out=$("$GGEP" verify "$tmp/sandy/results.h5" 2>&1); then
    pass "verify of a Sandybridge file on this core: identical (these kernels agree on this config)"
  else
    check "verify of a Sandybridge file on this core names the core" grep -q "BLAS kernels: the file was written with OpenBLAS core Sandybridge" <<<"$out"
  fi
fi

# 4. A corrupted model is refused when the plan is made, naming the file and both checksums;
#    a run whose jobs all fail exits 3 with the reasons grouped.
$H5 flip-weights "$root/models/mnist-vae.h5" "$tmp/corrupt.h5"
vae_config "$tmp/corrupt.h5" > "$tmp/vae-corrupt.yaml"
expect "plan: a corrupted model file is refused with both checksums" 1 "corrupt.h5.*checksum mismatch: the file records [0-9a-f]{64} but its weights hash to [0-9a-f]{64}" \
  "$GGEP" plan "$tmp/vae-corrupt.yaml" --brief
expect "run: the same, before any job runs" 1 "checksum mismatch" "$GGEP" run "$tmp/vae-corrupt.yaml" --out "$tmp/corrupt-run"
check "run: nothing written for a refused plan" test ! -e "$tmp/corrupt-run"
expect "run: every job failing exits 3, reasons grouped and counted" 3 "6 of 6 jobs failed, by reason:.*|6 × iteration 0: the step overflowed" \
  "$GGEP" run "$tmp/small.yaml" --out "$tmp/overflow" --set sweep.algorithm='[{kind: prfm, eta: 1e300}]' --set sweep.m='[40]'
# 11. ... and the reason is the overflow, not "orthogonal to the range".
check "overflow: the failure reason says the step overflowed" bash -c "$H5 column $tmp/overflow/results.h5 error | grep -q 'the step overflowed: ‖u + η(Â − ρB̂)u‖ is beyond the range of Double at η = 1e+300'"

# 5. A job too large for memory is refused at plan time, naming the key, value and estimate.
expect "plan: a batch over the available memory is refused" 1 "m: a batch of 2 job\(s\) needs about [0-9.]+ GiB at m = 1000000000 .*more than the" \
  "$GGEP" plan "$tmp/nosweep.yaml" --set m=1000000000
expect "run: the same, no allocation crash" 1 "needs about [0-9.]+ GiB at m = 1000000000" "$GGEP" run "$tmp/nosweep.yaml" --set m=1000000000 --out "$tmp/huge"
expect "run --max-memory: a smaller budget is honoured" 1 "more than the 1 MiB \(--max-memory 1M\)" "$GGEP" run "$tmp/nosweep.yaml" --max-memory 1M --out "$tmp/tiny"
check "run: nothing written for a refused plan (memory)" test ! -e "$tmp/huge" -a ! -e "$tmp/tiny"

# 6. An exclusive lock on the output folder; a dead holder's lock is taken over.
"$GGEP" run "$tmp/slow.yaml" --out "$tmp/locked" --jobs 1 >"$tmp/first.log" 2>&1 &
first=$!
for _ in $(seq 100); do grep -q pid= "$tmp/locked/.lock" 2>/dev/null && break; sleep 0.05; done
expect "lock: a second run of another config refuses at once, naming pid and start" 1 "in use by another ggep process \(pid $first on host .*, started 20" \
  "$GGEP" run "$tmp/small.yaml" --out "$tmp/locked"
expect "lock: a second run of the same config refuses too" 1 "in use by another ggep process \(pid $first" "$GGEP" run "$tmp/slow.yaml" --out "$tmp/locked"
kill -KILL $first; wait $first 2>/dev/null
expect "lock: a killed holder's lock is taken over" 0 "taking over the lock of a run that is no longer running \(pid $first" \
  "$GGEP" run "$tmp/slow.yaml" --out "$tmp/locked" --jobs 2

# 7. File-system errors are one line naming the path.
touch "$tmp/afile"
expect "--out naming a file" 1 "afile: exists and is a file, not a folder" "$GGEP" run "$tmp/small.yaml" --out "$tmp/afile"
mkdir -p "$tmp/rootonly" && chmod 755 "$tmp/rootonly" && read_only "$tmp/rootonly"
expect "--out in a folder without write permission" 1 "rootonly/x: cannot create folder: Permission denied" \
  as_reader "$GGEP" run "$tmp/small.yaml" --out "$tmp/rootonly/x"
expect "report into a folder without write permission" 1 "rootonly/r: cannot create folder: Permission denied" \
  as_reader "$GGEP" report "$good" --out "$tmp/rootonly/r"

# 8. A rerun with nothing to do leaves results.h5 byte for byte, even in a read-only folder.
expect "no-op rerun: nothing written" 0 "all 48 jobs already complete" "$GGEP" run "$tmp/small.yaml" --out "$tmp/good"
read_only "$tmp/good"
expect "no-op rerun in a read-only folder" 0 "all 48 jobs already complete" as_reader "$GGEP" run "$tmp/small.yaml" --out "$tmp/good"
writable "$tmp/good"

# 9. A damaged results.h5 gets a message that says how to recover.
cp -r "$tmp/good" "$tmp/damaged"
truncate -s 20000 "$tmp/damaged/results.h5"
damaged_sum=$(sha256sum "$tmp/damaged/results.h5")
expect "damaged results.h5: how to recover" 1 "results.h5 is damaged and cannot be read .*truncated.*move it aside \(mv .*\.damaged\) and run again.*--fresh" \
  "$GGEP" run "$tmp/small.yaml" --out "$tmp/damaged"
check "damaged results.h5: left as it was" test "$(sha256sum "$tmp/damaged/results.h5")" = "$damaged_sum"
mv "$tmp/damaged/results.h5" "$tmp/damaged/results.h5.damaged"
expect "damaged results.h5: moved aside, the run recomputes" 0 "48 jobs run" "$GGEP" run "$tmp/small.yaml" --out "$tmp/damaged"
check "damaged results.h5: the recomputed file equals the original" $H5 same-runs "$tmp/damaged/results.h5" "$good"

# 10. Summaries group by every swept setting: the three PRFM steps are three rows per m.
expect "summarize: swept steps are not pooled" 0 "\| eq24 \| PRFM \| 0.05 \| 40 \| 6 \|" "$GGEP" summarize "$good"
check "summarize: 3 PRFM rows per m (one per η) and 1 PPower row" bash -c "[ \$($GGEP summarize $good | grep -c '| PRFM |') = 6 ] && [ \$($GGEP summarize $good | grep -c '| PPower |') = 2 ]"

# 12. Smaller: --jobs -1 is a bad value, not a missing one; usage errors exit 64.
expect "--jobs -1" 64 "--jobs must be at least 1, got -1" "$GGEP" run "$tmp/small.yaml" --jobs -1

# A full disk: a run that cannot write fails with the reason and leaves other results alone.
full=$tmp/full
mkdir -p "$full"
if [ "$(id -u)" != 0 ]; then
  :
elif mount -t tmpfs -o size=1200k tmpfs "$full" 2>/dev/null; then
  mounted=$full
elif truncate -s 4M "$tmp/disk.img" && mkfs.ext2 -q -F "$tmp/disk.img" >/dev/null 2>&1 && mount -o loop "$tmp/disk.img" "$full" 2>/dev/null; then
  mounted=$full
fi
if [ -n "$mounted" ]; then
  "$GGEP" run "$tmp/other.yaml" --out "$full/before" >/dev/null 2>&1
  protect "$full/before/results.h5"
  expect "full disk: the run fails with the reason" 1 "No space left on device|could not (write|create|close)" \
    "$GGEP" run "$tmp/small.yaml" --out "$full/big" --set sweep.m='[40, 80, 120, 160, 200, 240, 280, 320]' --set generator.n=400
  check "full disk: no half-written results.h5" bash -c "[ ! -e $full/big/results.h5 ] || $H5 opens $full/big/results.h5"
  unset "protected[$full/before/results.h5]"
else
  fail "full disk: neither a tmpfs nor a loop mount is possible here (it needs root)"
fi

# SIGTERM (Slurm's scancel and time limit) mid-run: the batches in flight finish and are saved;
# the rerun completes the rest, equal to an uninterrupted run.
"$GGEP" run "$tmp/slow.yaml" --out "$tmp/termed" --jobs 1 >"$tmp/term.log" 2>&1 &
victim=$!
for _ in $(seq 200); do ls "$tmp/termed/.journal/"*.h5 >/dev/null 2>&1 && break; sleep 0.05; done
kill -TERM $victim
wait $victim
code=$?
check "SIGTERM: exit 143 after saving" bash -c "[ $code = 143 ] && grep -q 'terminated (SIGTERM): finishing the batches in flight and saving' $tmp/term.log"
check "SIGTERM: the saved file opens and holds some of the jobs" bash -c "$H5 opens $tmp/termed/results.h5 && [ \$($H5 column $tmp/termed/results.h5 job_key | wc -l) -lt 24 ]"
expect "SIGTERM: the rerun completes the rest" 0 "skipped" "$GGEP" run "$tmp/slow.yaml" --out "$tmp/termed"
check "SIGTERM: resumed results equal an uninterrupted run" $H5 same-runs "$tmp/termed/results.h5" "$tmp/locked/results.h5"

# A model file replaced while runs plan and run (swapped between two valid models every few
# milliseconds, atomically, as a retraining would): a run either refuses at plan time, or runs
# on one model, its jobs failing with "the model file changed" where the swap hit; it never
# mixes two models in one results file. A rerun with the other model does not fold its jobs
# into the old ones.
if [ -f "$root/data/mnist/t10k-images-idx3-ubyte.gz" ] || [ -f "$root/data/mnist/t10k-images-idx3-ubyte" ]; then
  cp "$root/models/mnist-vae.h5" "$tmp/model-a.h5"
  $H5 perturb-model "$root/models/mnist-vae.h5" "$tmp/model-b.h5"
  cp "$tmp/model-a.h5" "$tmp/model.h5"
  vae_config "$tmp/model.h5" > "$tmp/vae.yaml"
  ( while true; do
      for m in b a; do cp "$tmp/model-$m.h5" "$tmp/model.h5.new" && mv "$tmp/model.h5.new" "$tmp/model.h5"; sleep 0.01; done
    done ) &
  swapper=$!
  outcomes=""
  for i in 1 2 3 4 5 6; do
    "$GGEP" run "$tmp/vae.yaml" --out "$tmp/vae-$i" --jobs 2 >"$tmp/vae-$i.log" 2>&1
    code=$?
    outcomes+=" $code"
    case $code in
      0 | 3) check "model swapped during run $i (exit $code): one model in its results, failures say why" bash -c \
        "[ \$($H5 column $tmp/vae-$i/results.h5 generator_checksum | sort -u | wc -l) = 1 ] && { [ $code = 0 ] || grep -q 'the model file changed' $tmp/vae-$i.log; }" ;;
      1) check "model swapped during run $i (exit 1): refused at plan time, nothing written" bash -c \
        "grep -qE 'changed while the plan was made|the model file changed' $tmp/vae-$i.log && [ ! -e $tmp/vae-$i/results.h5 ]" ;;
      *) fail "model swapped during run $i: exit $code"; tail -n 12 "$tmp/vae-$i.log" | sed 's/^/    /' ;;
    esac
  done
  kill $swapper; wait $swapper 2>/dev/null
  # A cp or mv the swapper had started may still finish after it is gone: let it, then set the
  # model below (otherwise model.h5 can end up as model b and the rerun below is a no-op).
  sleep 0.3; rm -f "$tmp/model.h5.new"
  echo "    (exit statuses of the six runs:$outcomes)"
  cp "$tmp/model-a.h5" "$tmp/model.h5"
  "$GGEP" run "$tmp/vae.yaml" --out "$tmp/vae" >/dev/null 2>&1
  protect "$tmp/vae/results.h5"
  cp "$tmp/model-b.h5" "$tmp/model.h5"
  expect "model replaced: the rerun refuses to mix the new model's jobs with the old" 1 "holds [0-9]+ job\(s\) of this config that the current plan does not have.*weights.*--fresh" \
    "$GGEP" run "$tmp/vae.yaml" --out "$tmp/vae"
  unset "protected[$tmp/vae/results.h5]"
else
  fail "model replaced: MNIST not in data/mnist (make data)"
fi

# Inversion: bad configs are refused before any job runs, naming file, key and value;
# an LP the solver cannot satisfy fails its job with the solver's status (exit 3), never a crash.
cat > "$tmp/inv.yaml" <<'EOF'
experiment: inversion
name: inv
signals: 2
generator: {kind: relu-mlp, widths: [10, 40, 160]}
method: {kind: lp}
EOF
sed 's/{kind: lp}/{kind: gradient}/' "$tmp/inv.yaml" > "$tmp/inv-method.yaml"
expect "inversion: an unknown method is refused with file, key and value" 1 'inv-method.yaml:5: method.kind: unknown inversion method "gradient"' \
  "$GGEP" plan "$tmp/inv-method.yaml"
sed 's/widths: \[10, 40, 160\]}/widths: [10, 40, 160], activations: [softplus, relu]}/' "$tmp/inv.yaml" > "$tmp/inv-softplus.yaml"
expect "inversion: a layer-wise method on a softplus layer names the layer and activation" 1 'method lp cannot invert this generator: layer 1 \(10 → 40\) has activation softplus' \
  "$GGEP" run "$tmp/inv-softplus.yaml" --out "$tmp/inv-softplus"
{ cat "$tmp/inv.yaml"; echo "mask_fraction: 1"; } > "$tmp/inv-mask.yaml"
expect "inversion: a mask fraction of 1 is refused" 1 'inv-mask.yaml:6: mask_fraction: must be in \[0, 1\).*got 1' \
  "$GGEP" plan "$tmp/inv-mask.yaml"
"$GGEP" run "$tmp/inv.yaml" --out "$tmp/inv" >/dev/null 2>&1
protect "$tmp/inv/results.h5"
{ sed 's/{kind: lp}/{kind: lp, noiseless: true}/' "$tmp/inv.yaml"; echo "noise_snr_db: 20"; } > "$tmp/inv-noisy.yaml"
expect "inversion: an infeasible noiseless LP fails its jobs with CLP's status (exit 3)" 3 'layer [0-9]: the LP is primal infeasible \(CLP status 1\)' \
  "$GGEP" run "$tmp/inv-noisy.yaml" --out "$tmp/inv-noisy"
unset "protected[$tmp/inv/results.h5]"

# A PyTorch generator: a damaged safetensors file stops the plan, naming the file.
fixture_st="$(pwd)/Tests/GGEPTests/Fixtures/pytorch/mlp.safetensors"
head -c 2000 "$fixture_st" > "$tmp/cut.safetensors"
cat > "$tmp/pt.yaml" <<EOF
m: 100
signal: {source: generator}
generator: {kind: pytorch, file: $tmp/cut.safetensors, preset: mlp, widths: [8, 32, 48, 100]}
problem: {kind: spiked}
algorithm: {kind: prfm}
EOF
expect "pytorch: a truncated safetensors file stops the plan, naming file and tensor" 1 "pt.yaml:3: generator.file: .*cut.safetensors: tensor \"[0-9.a-z_]+\": truncated" \
  "$GGEP" run "$tmp/pt.yaml" --out "$tmp/pt"
check "pytorch: nothing written for the refused plan" test ! -e "$tmp/pt"

# Trained priors: bad training configs and damaged model files are refused by name;
# a damaged checkpoint is refused, never silently restarted over.
cat > "$tmp/gan.yaml" <<EOF
kind: gan
out: $tmp/gan/g.h5
gan: {loss: hinge}
EOF
expect "train-generator: an unknown loss is refused naming file, key and value" 1 'gan.yaml:3: gan.loss: .*hinge' \
  "$GGEP" train-generator "$tmp/gan.yaml"
check "train-generator: nothing written for the refused config" test ! -e "$tmp/gan"
sed 's/{loss: hinge}/{loss: mean-square, non_saturating: true}/' "$tmp/gan.yaml" > "$tmp/gan-ns.yaml"
expect "train-generator: non_saturating with mean-square is refused" 1 'gan-ns.yaml:3: gan.non_saturating: applies to loss cross-entropy only' \
  "$GGEP" train-generator "$tmp/gan-ns.yaml"
mkdir -p "$tmp/gan"
sed 's/{loss: hinge}/{loss: cross-entropy}/' "$tmp/gan.yaml" > "$tmp/gan-ok.yaml"
head -c 3000 models/mnist-vae.h5 > "$tmp/gan/g.h5.checkpoint.h5"
expect "train-generator: a damaged checkpoint is refused naming it" 1 "checkpoint .*g.h5.checkpoint.h5: .*delete it to start over" \
  "$GGEP" train-generator "$tmp/gan-ok.yaml"
head -c 3000 models/mnist-vae.h5 > "$tmp/vae.ckpt.h5"
expect "train-vae: a damaged checkpoint is refused naming it" 1 "checkpoint .*vae.ckpt.h5: .*delete it to start over" \
  "$GGEP" train-vae --epochs 1 --data data/mnist --out "$tmp/vae.h5" --checkpoint "$tmp/vae.ckpt.h5"
check "train-vae: the damaged checkpoint is left as it was, no model written" \
  sh -c "[ \$(wc -c < '$tmp/vae.ckpt.h5') = 3000 ] && [ ! -e '$tmp/vae.h5' ]"
expect "train-vae: both schedules at once are refused naming the options" 64 "--gradient-shards and --layer-pieces" \
  "$GGEP" train-vae --gradient-shards 2 --layer-pieces 4 --out "$tmp/vae.h5"
head -c 100000 models/mnist-gan-cross-entropy.h5 > "$tmp/cut-model.h5"
expect "model-report: a truncated model file is refused naming it" 1 'cut-model.h5' \
  "$GGEP" model-report "$tmp/cut-model.h5" --no-write

# --- Trust, third round: hostile files and values the tool used to ignore, crash or hang on ------
# A planted .lock link (a symbolic or a hard link into someone's file) is refused, never written.
echo precious > "$tmp/victim.txt"
mkdir -p "$tmp/planted" "$tmp/planted-hard"
ln -s "$tmp/victim.txt" "$tmp/planted/.lock"
expect "lock: a .lock that is a symbolic link is refused" 1 "planted/.lock is a symbolic link" "$GGEP" run "$tmp/other.yaml" --out "$tmp/planted"
ln "$tmp/victim.txt" "$tmp/planted-hard/.lock"
expect "lock: a .lock that is a hard link to another file is refused" 1 "planted-hard/.lock has 2 hard links" "$GGEP" run "$tmp/other.yaml" --out "$tmp/planted-hard"
check "lock: the file a planted link points to is untouched" grep -qx precious "$tmp/victim.txt"

# Crafted safetensors files and generators that give no usable output (a 4-16-32 ReLU MLP).
mkst() {  # mkst OUT VARIANT: ok | nan (one NaN weight) | zero (last bias −1e4: G(z) = 0) | overflow | overflow3
  $PYTHON - "$@" <<'PYEOF'
import json, struct, sys
import numpy as np
out, variant = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
t = {"0.weight": rng.standard_normal((16, 4)).astype("<f4"), "0.bias": np.zeros(16, "<f4"),
     "2.weight": rng.standard_normal((32, 16)).astype("<f4"), "2.bias": np.zeros(32, "<f4")}
if variant == "nan": t["0.weight"][3, 1] = np.nan
if variant == "zero": t["2.bias"][:] = -1e4
header, data = {}, b""
for name, a in t.items():
    header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [len(data), len(data) + a.nbytes]}
    data += a.tobytes()
if variant == "overflow": header["0.weight"]["shape"] = [2**62]
if variant == "overflow3": header["0.weight"]["shape"] = [4294967296] * 3
h = json.dumps(header).encode()
open(out, "wb").write(struct.pack("<Q", len(h)) + h + data)
PYEOF
}
mlp_config() {  # mlp_config FILE: a GEP config on the 4-16-32 MLP in FILE
  cat <<EOF
name: mlp
m: 60
signal: {source: generator, count: 2}
generator:
  kind: pytorch
  file: $1
  modules: [{linear: [4, 16]}, relu, {linear: [16, 32]}, relu]
problem: {kind: spiked}
algorithm: {kind: prfm, iterations: 5}
projection: {method: adam, steps: 5, restarts: 1}
EOF
}
for variant in ok nan zero overflow overflow3; do
  mkst "$tmp/$variant.safetensors" $variant
  mlp_config "$tmp/$variant.safetensors" > "$tmp/mlp-$variant.yaml"
done
expect "safetensors: the honest 4-16-32 MLP runs" 0 "2 jobs run, 0 skipped, 0 failed" "$GGEP" run "$tmp/mlp-ok.yaml" --out "$tmp/mlp-ok"
for command in plan run check-generator; do
  args=("$tmp/mlp-overflow.yaml"); [ $command = run ] && args+=(--out "$tmp/mlp-overflow")
  [ $command = check-generator ] && args=("$tmp/mlp-overflow.yaml" --reference "$tmp/ok.safetensors")
  expect "safetensors: a shape of 2^62 F32 is refused by name ($command)" 1 'tensor "0.weight": shape \[4611686018427387904\] of F32 is too large' \
    "$GGEP" $command "${args[@]}"
done
expect "safetensors: a shape of three 2^32 extents is refused by name" 1 'tensor "0.weight": shape \[4294967296, 4294967296, 4294967296\] of F32 is too large' \
  "$GGEP" plan "$tmp/mlp-overflow3.yaml"
expect "model: a NaN weight is refused at plan time, naming the tensor" 1 'nan.safetensors: tensor "0.weight": holds 1 non-finite value\(s\), the first NaN at index 13' \
  "$GGEP" plan "$tmp/mlp-nan.yaml"
expect "signal: a generator that is always 0 fails its jobs after bounded draws, no hang" 3 \
  "signal: the generator gave no usable signal in 100 latent draws \(100 gave G\(z\) = 0" timeout -s KILL 30 "$GGEP" run "$tmp/mlp-zero.yaml" --out "$tmp/mlp-zero"

# Ctrl-C twice: the second quits at once with 130, never a segfault in BLAS (exit handlers
# no longer run under live workers); the journal keeps what finished.
cat > "$tmp/blas.yaml" <<'EOF'
name: blas
seed: 6
m: 3000
signal: {source: generator, count: 4}
generator: {kind: relu-random, n: 784, k: 20, hidden: 500}
problem: {kind: spiked}
algorithm: {kind: prfm, iterations: 30}
projection: {method: adam, steps: 200, restarts: 3}
sweep:
  m: [3000, 3001, 3002, 3003, 3004, 3005, 3006, 3007]
EOF
for attempt in 1 2 3 4; do
  "$GGEP" run "$tmp/blas.yaml" --out "$tmp/twice" --jobs 2 >"$tmp/twice.log" 2>&1 &
  victim=$!
  for _ in $(seq 200); do grep -q "running" "$tmp/twice.log" 2>/dev/null && break; sleep 0.05; done
  sleep 1
  kill -INT $victim; sleep 0.3; kill -INT $victim
  wait $victim
  code=$?
  check "Ctrl-C twice (try $attempt): exit 130, no crash" bash -c "[ $code = 130 ] && grep -q '^quitting' $tmp/twice.log && ! grep -qE 'Bad pointer|Backtrace|Segmentation|Fatal error' $tmp/twice.log"
done

# Ctrl-C during LP inversions reaches ggep (CLP no longer installs its own SIGINT handler):
# "interrupted", the LP in flight finishes, exit 130, the rest left for the rerun. Each job is one
# long LP (a 1400 × 701 layer), so the signal lands inside CLP's solve.
cat > "$tmp/lp-slow.yaml" <<'EOF'
experiment: inversion
name: lp-slow
signals: 1
generator: {kind: relu-mlp, widths: [20, 700, 1400]}
method: {kind: lp}
sweep:
  seed: [1, 2, 3, 4]
EOF
"$GGEP" run "$tmp/lp-slow.yaml" --out "$tmp/lp-int" --jobs 1 >"$tmp/lp-int.log" 2>&1 &
victim=$!
for _ in $(seq 200); do grep -q "running" "$tmp/lp-int.log" 2>/dev/null && break; sleep 0.05; done
sleep 2
kill -INT $victim
( sleep 90; kill -KILL $victim 2>/dev/null ) & watchdog=$!
wait $victim
code=$?
kill $watchdog 2>/dev/null
check "Ctrl-C during lp: exit 130 with 'interrupted', the LP in flight not failed, not every job run" \
  bash -c "[ $code = 130 ] && grep -q 'interrupted: finishing the batches in flight' $tmp/lp-int.log && ! grep -q 'CLP status 3' $tmp/lp-int.log && [ \$($H5 column $tmp/lp-int/results.h5 job_key | wc -l) -lt 4 ]"

# A --set of a swept key would be ignored: refused, naming the axis and the override that works.
smoke=configs/examples/linear-smoke.yaml
expect "--set of a swept key is refused, naming the axis (plan)" 1 "m is a sweep axis \(sweep.m, .*--set 'sweep.m=\[300000000\]'" \
  "$GGEP" plan $smoke --set m=300000000
expect "--set of a swept key is refused (run), nothing written" 1 "would be ignored" "$GGEP" run $smoke --set m=300000000 --out "$tmp/swept-set"
check "--set of a swept key: nothing written" test ! -e "$tmp/swept-set"
# Base values a sweep replaces are checked all the same.
sed 's/^m: 100 .*/m: -5/' $smoke > "$tmp/base-m.yaml"
expect "a base m: -5 replaced by the sweep is refused" 1 "base-m.yaml:22: m: must be >= 1, got -5 \(a base value that sweep.m replaces" "$GGEP" plan "$tmp/base-m.yaml"
sed 's/^  kind: prfm$/  kind: nosuch_algorithm/' $smoke > "$tmp/base-alg.yaml"
expect "a base algorithm kind replaced by the sweep is refused" 1 "base-alg.yaml:2[0-9]: algorithm.kind: .*nosuch_algorithm.*sweep.algorithm replaces" "$GGEP" plan "$tmp/base-alg.yaml"

# A YAML alias bomb (nine levels of ten aliases: 10^9 values) is refused at once.
{ echo 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'
  for i in $(seq 9); do printf 'a%d: &a%d [' $i $i; for j in $(seq 10); do printf '*a%d%s' $((i - 1)) "$([ $j -lt 10 ] && echo ', ')"; done; echo ']'; done
} > "$tmp/bomb.yaml"
expect "an alias bomb is refused, not expanded" 1 "bomb.yaml:[0-9]+: .*expands to more than 100000 values" bash -c "ulimit -v 4000000; timeout -s KILL 10 $GGEP plan $tmp/bomb.yaml"

# Counts: a plan of a billion jobs is refused before any job is made (it ran out of memory).
expect "plan: 10^9 signals are refused by the job count, at once" 1 "the plan has 60000000000 jobs \(30 point\(s\) × 1000000000 signal\(s\) × 2 trial\(s\)\)" \
  bash -c "ulimit -v 4000000; timeout -s KILL 20 $GGEP plan configs/examples/linear-smoke.yaml --set signal.count=1000000000"

# Generator sizes: refused by name before anything is allocated, never a crash or an overflow.
for width in 1000000000 9223372036854775807; do
  printf 'experiment: inversion\nname: wide\nsignals: 2\ngenerator: {kind: relu-mlp, widths: [20, %s, 625]}\nmethod: {kind: adam}\n' $width > "$tmp/wide.yaml"
  expect "inversion: a hidden width of $width is refused by name" 1 "wide.yaml:4: generator.widths: \[20, $width, 625\] makes a generator whose weights need about" \
    "$GGEP" plan "$tmp/wide.yaml"
done
printf 'experiment: inversion\nname: wide\nsignals: 2\ngenerator: {kind: relu-mlp, widths: [20, 200000, 625]}\nmethod: {kind: adam, steps: 5}\n' > "$tmp/wide.yaml"
expect "inversion: --max-memory counts the generator's weights" 1 "needs about 2.[0-9] GiB .*the generator's weights" \
  "$GGEP" run "$tmp/wide.yaml" --max-memory 200MB --out "$tmp/wide"
# The estimate holds the measured peak (getrusage) without being far above it, per method.
for method in lp latent-pursuit layered-bp "adam, steps: 50"; do
  printf 'experiment: inversion\nname: peak\nsignals: 2\ngenerator: {kind: relu-mlp, widths: [20, 800, 1600]}\nmethod: {kind: %s}\n' "$method" > "$tmp/peak.yaml"
  check "memory estimate ≥ the measured peak and ≤ 2× it ($method)" $PYTHON - "$GGEP" "$tmp/peak.yaml" "$tmp/peak-out" <<'PYEOF'
import re, resource, subprocess, sys, shutil
ggep, config, out = sys.argv[1:]
plan = subprocess.run([ggep, "plan", config], capture_output=True, text=True, check=True).stdout
number, unit = re.search(r"memory: about ([0-9.]+) (MiB|GiB|KiB)", plan).groups()
estimate = float(number) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[unit]
shutil.rmtree(out, ignore_errors=True)
subprocess.run([ggep, "run", config, "--out", out, "--jobs", "1"], capture_output=True, check=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the larger of plan and run, MiB
print(f"estimate {estimate:.0f} MiB, measured peak {peak:.0f} MiB")
sys.exit(0 if peak <= estimate <= 2 * peak else 1)
PYEOF
done

# A missing MNIST file stops the plan (as a missing model does), not every job at run time.
mkdir -p "$tmp/mnist-missing"
cp data/mnist/t10k-images-idx3-ubyte.gz "$tmp/mnist-missing/"
cat > "$tmp/mnist-missing.yaml" <<EOF
m: 100
signal: {source: mnist, count: 2, data: $tmp/mnist-missing}
generator: {kind: vae-mnist}
problem: {kind: spiked}
algorithm: {kind: prfm, iterations: 3}
EOF
expect "mnist: a missing labels file is refused at plan time, naming it" 1 "mnist-missing.yaml:2: signal.data: .*t10k-labels-idx1-ubyte.gz: file not found" \
  "$GGEP" plan "$tmp/mnist-missing.yaml"

# An inversion report with nothing to plot against says so, and still writes its table.
"$GGEP" run "$tmp/inv.yaml" --out "$tmp/inv-only-method" >/dev/null 2>&1
expect "report: no figure without an x axis, and a note saying why" 0 "note: .*no SNR or success figure: nothing that makes an x axis varies" \
  "$GGEP" report "$tmp/inv-only-method/results.h5" --out "$tmp/inv-only-method-report"
check "report: the table is written all the same" test -s "$tmp/inv-only-method-report/table.md"

# verify: every inversion column is recomputed from the stored z*, ẑ for every row (also outside
# --sample), and one edited job is counted once.
cat > "$tmp/inv-verify.yaml" <<'EOF'
experiment: inversion
name: inv-verify
signals: 4
generator: {kind: relu-mlp, widths: [10, 40, 160]}
method: {kind: adam, steps: 200}
sweep:
  noise_snr_db: [30, 90]
EOF
"$GGEP" run "$tmp/inv-verify.yaml" --out "$tmp/inv-verify" >/dev/null 2>&1
expect "verify: an inversion file passes, naming its own vectors" 0 "verified 8 job\(s\).*z_star, z_hat, x, x_hat" "$GGEP" verify "$tmp/inv-verify/results.h5"
for edit in "snr_latent_db 5 55.5" "success 2 $([ "$($H5 column "$tmp/inv-verify/results.h5" success | sed -n 3p)" = 1 ] && echo 0 || echo 1)" "snr_layer1_db 4 12" "snr_output_db 1 3" "residual 6 0.25"; do
  set -- $edit
  cp "$tmp/inv-verify/results.h5" "$tmp/inv-edited.h5"
  $H5 edit-cell "$tmp/inv-edited.h5" $1 $2 $3
  expect "verify --sample 1: an edited /runs/$1 is found" 1 "/runs/$1 is .*, but z_star, z_hat and the job's settings give" "$GGEP" verify "$tmp/inv-edited.h5" --sample 1
done
expect "verify: a job caught twice (re-run and row) is one job" 1 "inv-edited.h5: 1 job\(s\) differ \(8 re-run" "$GGEP" verify "$tmp/inv-edited.h5"

echo
echo "fault battery: $passed passed, $failed failed"
[ "$failed" = 0 ]
