#!/bin/bash
# On the GPU machine: the validation split rendered as full sequences (24 frames, 384×256) at 2×
# and 1.5× and scored with TAAU and the networks named, entry by entry (issue 14's bars are on
# sequences, not on the 8-frame clips training validates on). Each entry is rendered, scored and
# its report kept before the next, so a call cut short returns the entries it finished; one
# archive, $OUT/sequences.tgz, packed however the call ends.
#   bash scripts/device/sequences.sh <time limit s> <label=net.uplift> ...   (methods neural:<label>)
# A first version ran beside four training runs and did not finish the split in 590 s
# (2026-12-06): run it alone.
set -u
LIMIT=$1
shift
. scripts/device/on-device.sh
R=/tmp/sequences
mkdir -p $R /tmp/nets
trap 'tar czf $OUT/sequences.tgz -C /tmp sequences' EXIT
nvidia-smi --query-gpu=name,driver_version --format=csv > $R/gpu.txt
METHODS=taau
for n in "$@"; do
  cp "${n#*=}" "/tmp/nets/${n%%=*}.uplift" || exit 1
  METHODS+=",neural:/tmp/nets/${n%%=*}.uplift"
done
END=$((SECONDS + LIMIT))
for quality in performance quality; do
  for entry in $(node .device/main.mjs dataset --split validation --list | awk '{ print $1 }'); do
    [ $SECONDS -lt $END ] || exit 0
    seq=/tmp/val-$quality/$entry
    timeout 120 node .device/main.mjs dataset --split validation --frames 24 --quality $quality \
      --only $entry --out /tmp/val-$quality -q >> $R/dataset.log 2>&1
    timeout 120 node .device/main.mjs eval $seq --methods $METHODS --warmup 8 --no-flip -q \
      --report $R/$quality/$entry >> $R/eval.log 2>&1
  done
done
