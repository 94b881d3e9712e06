#!/bin/bash
# On the GPU machine (docs/PERFORMANCE.md, "Waiting for the GPU"): the INT8 epilogue written per
# lane against the loop it replaces (.device/all-base.mjs, bundled from the commit before), the
# frames and the networks per node, each alone on the GPU; then two training runs from the
# weight-averaged F10 with the skinned scenes' shares and the stale term together. Results come
# back as one archive, $OUT/epilogue-and-runs.tgz, packed however the call ends (the machine
# returns a few files only: its first run lost every bench.json and run directory that way).
#   bash scripts/device/epilogue-and-runs.sh [time limit of the runs in seconds, default 200]
set -u
LIMIT=${1:-200}
. .device/on-device.sh
R=/tmp/epilogue-and-runs
mkdir -p $R
trap 'rm -f $R/*/best.ckpt; tar czf $OUT/epilogue-and-runs.tgz -C /tmp epilogue-and-runs' EXIT
nvidia-smi --query-gpu=name,driver_version --format=csv > $R/gpu.txt
timeout 40 node .device/all.mjs --out $R/exact --only int8-exact > $R/exact.log 2>&1
for b in base:all-base new:all; do
  timeout 100 node .device/${b#*:}.mjs --out $R/${b%:*} --only candidates,network \
    --cases '^(taau |neural-int8 |neural-int8-v3a |(int8|int8-matrix|v3a int8) 1920x1080 per-node$)' \
    --frames 20 --warmup 5 --budget-seconds 80 > $R/${b%:*}.log 2>&1
done
F=weights/v3-search/runs/v3a-f10-average
variant() { # name, node expression editing the config c
  node -e "const c=require('./$F/config.json');c.steps=2000;c.learningRate=1e-4;c.checkpointEvery=250;delete c.scheduleRestart;$2;require('fs').writeFileSync('$R/$1.json',JSON.stringify(c))"
  node .device/main.mjs train --config $R/$1.json --init $F/weights.uplift --validation-entries each \
    --validation-clips 42 --best-by worst --quiet --time-limit $LIMIT --out $R/$1 > $R/$1.log 2>&1 &
}
variant R5 "c.data.sceneShares={herd:0.15,runners:0.15};c.loss.stale=30"
variant R6 "c.data.sceneShares={herd:0.2,runners:0.2};c.loss.stale=20"
wait
