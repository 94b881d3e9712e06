#!/bin/bash
# Here, after a training call: scores the runs of scripts/device/variant-runs.sh as issue 14
# counts them. Extracts the archive, makes each run's INT8 twin (`uplift quantize <run>/weights.uplift
# --activation-bits 8`, what the shipped default is), plays TAAU and every twin on each sequence
# of a validation render (`uplift eval … --warmup 8 --no-flip`, one report a sequence, P at a
# time), and writes the margins over TAAU (scripts/sequence-margins.ts) to <report dir>/margins.json.
# Extra models to score beside them (e.g. the default, for a same-run baseline): their files.
#   bash scripts/score-runs.sh <variant-runs.tgz> <validation dir> <report dir> [model.uplift ...]
# e.g. (the validation split at 2×: `uplift dataset --split validation --frames 24 --quality
# performance --out val`)
#   bash scripts/score-runs.sh out/variant-runs.tgz val reports weights/uplift-v3-int8.uplift
# P (environment, default 2): processes at once. A sequence whose report exists is not played again.
# FLIP=1 scores ꟻLIP too (issue 14 asks for it lower than TAAU's; the slowest metric, on the CPU).
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,13p "$0" >&2; exit 2; }
root=$(git rev-parse --show-toplevel)
archive=$(realpath "$1"); V=$(realpath "$2"); R=$(realpath -m "$3"); shift 3
P=${P:-2}
noflip=--no-flip
[ "${FLIP:-0}" = 1 ] && noflip=""

mkdir -p "$R/runs"
tar xzf "$archive" -C "$R/runs"
methods=taau
for weights in "$R"/runs/variant-runs/*/weights.uplift; do
  [ -e "$weights" ] || { echo "score-runs.sh: no run with weights.uplift in $archive" >&2; exit 1; }
  name=$(basename "$(dirname "$weights")")
  twin="$R/$name-int8.uplift"
  [ -f "$twin" ] || (cd "$root" && node --import tsx src/cli/main.ts quantize "$weights" "$twin" \
    --activation-bits 8 -q > "$R/$name-quantize.log")
  methods="$methods,neural:$twin"
done
for model in "$@"; do
  methods="$methods,neural:$(realpath "$model")"
done
echo "score-runs.sh: $methods on $(ls "$V" | wc -l) sequences, $P at a time"
ls "$V" | xargs -P "$P" -I{} sh -c "[ -f '$R/{}/report.json' ] || (cd '$root' && \
  node --import tsx src/cli/main.ts eval '$V/{}' --methods '$methods' --warmup 8 $noflip -q \
  --report '$R/{}' > '$R/{}.log' 2>&1) || echo 'score-runs.sh: {} failed, see $R/{}.log' >&2"
(cd "$root" && npx tsx scripts/sequence-margins.ts "$R" --json "$R/margins.json")
