#!/bin/bash
# On the GPU machine (docs/PERFORMANCE.md, "Waiting for the GPU"): the frames the bars of issues
# 13 and 14 are set on (meant for an H200), v2's matrix kernels per node with the epilogue
# variants (no-writes, no-requantize), and a training step's WebGPU calls (the bind groups kept).
# Results come back as $OUT/frames-and-epilogue.tgz.
#   bash scripts/device/frames-and-epilogue.sh
set -u
. scripts/device/on-device.sh
R=$OUT/frames-and-epilogue
mkdir -p $R
nvidia-smi --query-gpu=name,driver_version --format=csv > $R/gpu.txt
timeout 40 node .device/all.mjs --out $R/exact --only int8-exact > $R/exact.log 2>&1
timeout 100 node .device/all.mjs --out $R/cand --only candidates \
  --cases '^(taau |neural-int8 |neural-int8-v3a )' --frames 30 --warmup 5 --budget-seconds 80 > $R/cand.log 2>&1
timeout 80 node .device/all.mjs --out $R/net --only network \
  --cases '^int8-matrix 1920x1080 per-node( no-writes| no-requantize)?$' --frames 20 --warmup 5 \
  --budget-seconds 60 > $R/net.log 2>&1
timeout 90 node .device/train-step-calls.mjs --steps 25 --warmup 3 --json $R/calls.json > $R/calls.txt 2>&1
tar czf $OUT/frames-and-epilogue.tgz -C $OUT frames-and-epilogue && rm -rf $R
