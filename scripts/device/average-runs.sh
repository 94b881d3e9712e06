#!/bin/bash
# On the GPU machine (docs/PERFORMANCE.md, "Waiting for the GPU"): four training runs at once with
# the weight average, echo 4: L10h's committed state resumed to the end of its 2,000-step
# schedule with averageDecay 0.995 and 0.999, and two fresh 3,000-step runs from v3a's best with
# averageDecay 0.999, stale term 0 and 10. Each ends by its time limit (the log is written at
# checkpoints); the run directories come back as $OUT/average-runs.tgz.
#   bash scripts/device/average-runs.sh [time limit in seconds, default 360]
# The resumed runs need v3a-long-stale10h's checkpoint, no longer in the tree: restore it first with
#   R=weights/v3-search/runs/v3a-long-stale10h; git show 8c953d8:$R/checkpoint.ckpt > $R/checkpoint.ckpt
set -u
LIMIT=${1:-360}
RESUMED=weights/v3-search/runs/v3a-long-stale10h
. scripts/device/on-device.sh
R=/tmp/average-runs
mkdir -p $R
nvidia-smi --query-gpu=name,driver_version --format=csv > $R/gpu.txt
[ -f $RESUMED/checkpoint.ckpt ] ||
  { echo "average-runs.sh: restore $RESUMED/checkpoint.ckpt first (see the header)" >&2; exit 1; }
for d in 995 999; do
  echo "{\"adam\":{\"averageDecay\":0.$d}}" > $R/a$d.json
  cp -r $RESUMED $R/A$d
  node .device/main.mjs train --out $R/A$d --resume --config $R/a$d.json --quiet \
    --time-limit $LIMIT > $R/A$d.log 2>&1 &
done
for stale in 0 10; do
  node -e "const c=require('./weights/v3-search/v3a.train.json');c.checkpointEvery=250;c.data.echo=4;c.loss.stale=$stale;c.adam={averageDecay:0.999};require('fs').writeFileSync('$R/f$stale.json',JSON.stringify(c))"
  node .device/main.mjs train --config $R/f$stale.json --init weights/v3-search/runs/v3a/best.uplift \
    --steps 3000 --lr 4e-4 --validation-entries each --validation-clips 42 --best-by worst --quiet \
    --time-limit $LIMIT --out $R/F$stale > $R/F$stale.log 2>&1 &
done
wait
tar czf $OUT/average-runs.tgz -C /tmp average-runs
