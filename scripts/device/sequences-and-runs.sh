#!/bin/bash
# On the GPU machine (docs/PERFORMANCE.md, "Waiting for the GPU"): the validation split rendered as
# full sequences (24 frames, 384×256, at 2× and 1.5×) and scored with TAAU and the networks named (at
# 1.5× TAAU and the first alone; issue 14's bar is on sequences, not the 8-frame clips training validates on), while four
# training runs continue the weight-averaged run F10 (weights/v3-search/runs/v3a-f10-average):
# R1 resumed to its schedule's end (the control), then three fresh 2,000-step runs from its
# average at lr 1e-4: R2 16-frame clips (ghosts build over many frames), R3 the skinned scenes
# (herd, runners) at 15 % each, R4 the stale term at 30. Everything comes back as
# $OUT/sequences-and-runs.tgz.
#   bash scripts/device/sequences-and-runs.sh [time limit in seconds, default 380] [label=net.uplift ...]
# (each network is scored as method neural:<label>)
set -u
LIMIT=${1:-380}
shift
NETS=("$@")
. .device/on-device.sh
R=/tmp/sequences-and-runs
mkdir -p $R
# One archive, packed however the call ends (its first run timed out and packed nothing).
trap 'rm -f $R/*/best.ckpt; tar czf $OUT/sequences-and-runs.tgz -C /tmp sequences-and-runs' EXIT
nvidia-smi --query-gpu=name,driver_version --format=csv > $R/gpu.txt
# First, alone on the GPU: the matrix kernels' epilogue without requantization (its last run met
# clock drops), beside the default in the same process.
timeout 80 node .device/all.mjs --out $R/net --only network \
  --cases '^int8-matrix 1920x1080 per-node( no-requantize)?$' --frames 20 --warmup 5 \
  --budget-seconds 60 > $R/net.log 2>&1
F=weights/v3-search/runs/v3a-f10-average
cp -r $F $R/R1
node .device/main.mjs train --out $R/R1 --resume --quiet --time-limit $LIMIT > $R/R1.log 2>&1 &
variant() { # name, node expression editing the config c
  node -e "const c=require('./$F/config.json');c.steps=2000;c.learningRate=1e-4;c.checkpointEvery=250;delete c.scheduleRestart;$2;require('fs').writeFileSync('$R/$1.json',JSON.stringify(c))"
  node .device/main.mjs train --config $R/$1.json --init $F/weights.uplift --validation-entries each \
    --validation-clips 42 --best-by worst --quiet --time-limit $LIMIT --out $R/$1 > $R/$1.log 2>&1 &
}
variant R2 "c.data.clipFrames=16;c.data.validationClipFrames=8"
variant R3 "c.data.sceneShares={herd:0.15,runners:0.15}"
variant R4 "c.loss.stale=30"
# The sequences, while the runs train (scores do not depend on the load). On 12-06 the first
# dataset and its scoring beside four runs did not end within 590 s: give them a call of their own.
mkdir -p /tmp/nets
METHODS=taau
FIRST=
for n in "${NETS[@]}"; do cp "${n#*=}" "/tmp/nets/${n%%=*}.uplift"; METHODS+=",neural:/tmp/nets/${n%%=*}.uplift"; FIRST=${FIRST:-$METHODS}; done
timeout $LIMIT node .device/main.mjs dataset --split validation --frames 24 --out /tmp/val2 -q > $R/dataset2.log 2>&1
timeout $LIMIT node .device/main.mjs eval /tmp/val2/* --methods $METHODS --warmup 8 --no-flip -q --report $R/eval2 > $R/eval2.log 2>&1
timeout $LIMIT node .device/main.mjs dataset --split validation --frames 24 --quality quality --out /tmp/val15 -q > $R/dataset15.log 2>&1
timeout $LIMIT node .device/main.mjs eval /tmp/val15/* --methods ${FIRST:-taau} --warmup 8 --no-flip -q --report $R/eval15 > $R/eval15.log 2>&1
wait
