#!/bin/bash
# Every GPU path of hab-aux measured on one GPU, written to benchmarks/results.md (README: On a GPU).
#   bash scripts/gpu_check.sh             on the GPU machine: install .gpu-bundles (made by
#                                         scripts/gpu_wheels.sh) into $HABAUX_SITE, then measure
#   bash scripts/gpu_check.sh --dry-run   the same code on a CPU machine's .venv: tiny preset, CPU
#                                         simulator, toy sizes (extra arguments go to benchmarks/gpu_check.py)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--dry-run" ]; then
  exec .venv/bin/python benchmarks/gpu_check.py "$@"
fi
site=${HABAUX_SITE:-/tmp/habaux-site}
bundles=${HABAUX_BUNDLES:-.gpu-bundles}
ls "$bundles"/site-*.tar.xz >/dev/null 2>&1 || { echo "gpu_check: no $bundles/site-*.tar.xz; run scripts/gpu_wheels.sh on a machine with package access" >&2; exit 1; }
mkdir -p "$site"
for f in "$bundles"/site-*.tar.xz; do tar -xJf "$f" -C "$site"; done
if ! ldconfig -p | grep -q libvulkan; then  # SAPIEN renders through Vulkan
  for f in "$bundles"/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -m pip install -q --no-deps --no-index --no-build-isolation --no-compile --target "$site" .  # hab-aux itself
exec python3 benchmarks/gpu_check.py "$@"
