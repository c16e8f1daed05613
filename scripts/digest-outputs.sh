#!/usr/bin/env bash
# Runs every example config and the paper's configs into OUT/<name>/ and prints one digest line
# per results file (scripts/results-digest.py): a refactor that changes no number leaves every
# line the same. Compare two runs with `diff`.
#
#   scripts/digest-outputs.sh OUT [CONFIG ...]      default: configs/examples/*.yaml configs/paper/fig2-*.yaml configs/paper/appD-general-B.yaml
#
# GGEP names the binary (default .build/release/ggep). own-data.yaml needs its data made first
# (scripts/make-own-data.py), as its header says; it is run when its file is there.
set -euo pipefail
out=${1:?usage: digest-outputs.sh OUT [CONFIG ...]}
shift
GGEP=${GGEP:-.build/release/ggep}
configs=("$@")
if [ ${#configs[@]} -eq 0 ]; then
  configs=(configs/examples/*.yaml configs/paper/fig2-eq24.yaml configs/paper/fig2-eq25.yaml configs/paper/appD-general-B.yaml)
fi
mkdir -p "$out"
for config in "${configs[@]}"; do
  name=$(basename "$config" .yaml)
  rm -rf "$out/$name"
  t0=$(date +%s)
  if ! "$GGEP" run "$config" --out "$out/$name" > "$out/$name.log" 2>&1; then
    echo "$name: run failed (see $out/$name.log)" >&2
    tail -3 "$out/$name.log" >&2
    continue
  fi
  echo "$name: $(( $(date +%s) - t0 )) s" >&2
  python3 scripts/results-digest.py "$out/$name/results.h5"
done
