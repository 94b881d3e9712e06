#!/bin/bash
# On the GPU machine: a change measured against the code before it, in one call. .device/all.mjs
# is the bundle of the change, .device/all-base.mjs the one of the commit before (here:
# `scripts/device/pack-ab.sh base=<rev>` after pack-small.sh); int8-exact first (the change's
# bits), then base, change, base again, each alone on the GPU. One archive, $OUT/ab-frames.tgz,
# packed however the call ends.
#   bash scripts/device/ab-frames.sh [cases regex] [seconds per bundle, default 25]
# BUNDLES="name:bundle …" runs other bundles in that order (default base:all-base change:all
# base2:all-base), e.g. two changes in a row against one base.
set -u
CASES=${1:-'^(neural-int8 1920x1080|neural-int8-v3a 1920x1080|(int8|v3a int8) 1920x1080 per-node$)'}
BUDGET=${2:-25}
. scripts/device/on-device.sh
R=/tmp/ab-frames
mkdir -p $R
trap 'tar czf $OUT/ab-frames.tgz -C /tmp ab-frames' EXIT
nvidia-smi --query-gpu=name,driver_version --format=csv > $R/gpu.txt
timeout 40 node .device/all.mjs --out $R/exact --only int8-exact > $R/exact.log 2>&1
for b in ${BUNDLES:-base:all-base change:all base2:all-base}; do
  timeout $((BUDGET + 20)) node .device/${b#*:}.mjs --out $R/${b%:*} --only candidates,network \
    --cases "$CASES" --frames 20 --warmup 5 --budget-seconds $BUDGET > $R/${b%:*}.log 2>&1
done
