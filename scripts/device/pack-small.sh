#!/bin/bash
# Here, before a device call: packs .device/ as ../shared/device/pack.sh does, but small enough to
# travel beside the repository (the working tree and what `carry` names must stay under 64 MiB,
# and the tracked files take ~34 MB): only the given entries are bundled, minified (names kept,
# so stack traces stay readable) and gzipped (a device command sources
# scripts/device/on-device.sh, which unpacks them), the uncompressed dawn.node the pack leaves is
# removed, and bundles of other entries from earlier packs are dropped. Prints what will travel.
#   bash scripts/device/pack-small.sh src/cli/main.ts [bench/all.ts ...]
# A/B bundles of older commits (ab-frames.sh's all-base.mjs …): pack-ab.sh, afterwards.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
[ $# -gt 0 ] || { echo "usage: pack-small.sh <entry.ts>..." >&2; exit 2; }
bash ../shared/device/pack.sh > /dev/null
rm -f .device/node_modules/webgpu/dist/linux-x64/dawn.node
keep=()
for entry in "$@"; do
  name=$(basename "${entry%.*}")
  keep+=("$name.mjs.gz")
  npx --no-install esbuild "$entry" --bundle --platform=node --format=esm --target=node20 \
    --minify --keep-names --external:webgpu --log-level=warning --outfile=".device/$name.mjs" \
    --banner:js="import{createRequire as __cr}from'module';const require=__cr(import.meta.url);"
  gzip -9 -f ".device/$name.mjs"
done
for bundle in .device/*.mjs .device/*.mjs.gz; do
  [ -e "$bundle" ] || continue
  b=$(basename "$bundle")
  case " ${keep[*]} probe.mjs submatrix-probe.mjs " in *" $b "*) ;; *) rm -f "$bundle" ;; esac
done
tracked=$(git ls-files -z | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
device=$(du -sk .device | cut -f1)
echo "tracked files ${tracked} KiB + .device ${device} KiB = $((tracked + device)) KiB (limit 65536)"
[ $((tracked + device)) -lt 65536 ] || { echo "pack-small.sh: too large to travel" >&2; exit 1; }
