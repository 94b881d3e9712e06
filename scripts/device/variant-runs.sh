#!/bin/bash
# On the GPU machine: training runs at once, each from the weight average of a committed run with
# its config edited, echo and validation as that run's (42 clips, one per entry, best by the worst
# entry); they end by their time limit. One archive, $OUT/variant-runs.tgz, packed however the
# call ends (run directories without best.ckpt).
#   bash scripts/device/variant-runs.sh <time limit s> <run dir> <name>=<js editing config c> ...
# e.g. (QUALITY §4, 2026-12-06 third session: R5 again, and the skinned shares at 0.25)
#   bash scripts/device/variant-runs.sh 380 weights/v3-search/runs/v3a-f10-average \
#     'S1=c.data.sceneShares={herd:0.15,runners:0.15};c.loss.stale=30' \
#     'S2=c.data.sceneShares={herd:0.25,runners:0.25};c.loss.stale=30'
# Every variant also gets steps 2000, learning rate 1e-4 and a checkpoint every 250 steps unless
# its expression sets them. INIT_MATCHING=1 starts every variant from the run's weights with
# --init-matching (another network, e.g. c.network='v3b': the layers it shares taken, the rest fresh).
# PROFILE=<name> runs that variant under node's --cpu-prof (profiles in <name>-prof/ of the archive:
# where a training process's main thread spends its time on the GPU machine).
set -u
LIMIT=$1
F=$2
shift 2
. scripts/device/on-device.sh
R=/tmp/variant-runs
mkdir -p $R
trap 'rm -f $R/*/best.ckpt; tar czf $OUT/variant-runs.tgz -C /tmp variant-runs' EXIT
nvidia-smi --query-gpu=name,driver_version --format=csv > $R/gpu.txt
for v in "$@"; do
  name=${v%%=*}
  node -e "const c=require('./$F/config.json');c.steps=2000;c.learningRate=1e-4;c.checkpointEvery=250;delete c.scheduleRestart;${v#*=};require('fs').writeFileSync('$R/$name.json',JSON.stringify(c))" || exit 1
  prof=""
  [ "${PROFILE:-}" = "$name" ] && prof="--cpu-prof --cpu-prof-dir=$R/$name-prof"
  timeout $((LIMIT + 120)) node $prof .device/main.mjs train --config $R/$name.json --init $F/weights.uplift \
    ${INIT_MATCHING:+--init-matching} \
    --validation-entries each --validation-clips 42 --best-by worst --quiet --time-limit $LIMIT \
    --out $R/$name > $R/$name.log 2>&1 &
done
wait
