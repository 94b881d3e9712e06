# Sourced at the start of a device script (bash): the pack's own setup (.device/on-device.sh:
# Node on PATH, the Vulkan loader, dawn.node), then the bundles pack-small.sh and pack-ab.sh
# gzipped, unpacked in place.
. .device/on-device.sh
for _z in .device/*.mjs.gz; do [ -e "$_z" ] && gunzip -f "$_z"; done
unset _z
