#!/bin/bash
# A probe, not a feature: how the shipped network's frames score when its blend or its filter is
# pushed one way at inference. output-scales.patch makes the filter kernels read two scales from
# the environment: ALPHA_SCALE multiplies the current frame's share 1 − α of the blend (below 1:
# more history), SIGMA_SCALE both Gaussian widths. The patch is applied to a temporary worktree of
# HEAD (this checkout is not touched) and `uplift eval` scores the default network there on every
# sequence directory of <validation dir>, one report per sequence, as scripts/sequence-margins.ts
# reads them, the method named by its scales (e.g. `neural@alpha0.85`, `neural@sigma1.25`).
#   ALPHA_SCALE=0.85 bash scripts/probes/output-scales.sh <validation dir> <report dir> [processes]
set -euo pipefail
V=$(realpath "$1"); R=$(realpath -m "$2"); P=${3:-2}
root=$(git rev-parse --show-toplevel)
wt=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$wt"' EXIT
git -C "$root" worktree add -q --detach "$wt" HEAD
git -C "$wt" apply "$root/scripts/probes/output-scales.patch"
ln -s "$root/node_modules" "$wt/node_modules"
mkdir -p "$R"
ls "$V" | xargs -P "$P" -I{} sh -c "[ -f '$R/{}/report.json' ] || (cd '$wt' && \
  node --import tsx src/cli/main.ts eval '$V/{}' --methods neural --warmup 8 --no-flip -q \
  --report '$R/{}' > '$R/{}.log' 2>&1)"
name=neural${ALPHA_SCALE:+@alpha$ALPHA_SCALE}${SIGMA_SCALE:+@sigma$SIGMA_SCALE}
node -e "const fs=require('fs');for(const f of process.argv.slice(1)){const j=JSON.parse(fs.readFileSync(f));\
for(const s of j.sequences)for(const m of s.methods)if(m.method==='neural')m.method='$name';\
fs.writeFileSync(f,JSON.stringify(j,null,2))}" "$R"/*/report.json
echo "reports in $R (ALPHA_SCALE=${ALPHA_SCALE:-1} SIGMA_SCALE=${SIGMA_SCALE:-1})"
