#!/bin/bash
# Here, after pack-small.sh: bundles bench/all.ts of other commits for an A/B call
# (ab-frames.sh's BUNDLES), each from a temporary worktree, minified as pack-small.sh bundles,
# gzipped (ab-frames.sh unpacks them on the device) into .device/all-<name>.mjs.gz. Prints what
# will travel.
#   bash scripts/device/pack-ab.sh <name>=<rev> ...
# e.g.  bash scripts/device/pack-ab.sh base=4b86f31 staged=0059c75
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
[ $# -gt 0 ] || { echo "usage: pack-ab.sh <name>=<rev>..." >&2; exit 2; }
[ -d .device ] || { echo "pack-ab.sh: run pack-small.sh first" >&2; exit 1; }
root=$(pwd)
for pair in "$@"; do
  name=${pair%%=*}
  rev=${pair#*=}
  [ "$name" != "$pair" ] && [ -n "$name" ] || { echo "pack-ab.sh: '$pair' is not <name>=<rev>" >&2; exit 2; }
  tree=$(mktemp -d)
  git worktree add --detach -f "$tree" "$rev" > /dev/null
  ln -s "$root/node_modules" "$tree/node_modules"
  (cd "$tree" && npx --no-install esbuild bench/all.ts --bundle --platform=node --format=esm \
    --target=node20 --minify --keep-names --external:webgpu --log-level=warning \
    --outfile="$root/.device/all-$name.mjs" \
    --banner:js="import{createRequire as __cr}from'module';const require=__cr(import.meta.url);")
  git worktree remove --force "$tree"
  gzip -9 -f ".device/all-$name.mjs"
  echo "all-$name.mjs.gz: bench/all.ts at $(git rev-parse --short "$rev")"
done
git worktree prune
tracked=$(git ls-files -z | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
device=$(du -sk .device | cut -f1)
echo "tracked files ${tracked} KiB + .device ${device} KiB = $((tracked + device)) KiB (limit 65536)"
[ $((tracked + device)) -lt 65536 ] || { echo "pack-ab.sh: too large to travel" >&2; exit 1; }
