#!/usr/bin/env bash
# Idempotent set-up: a Vulkan render device (Mesa lavapipe on Debian bookworm when none is found),
# a .venv in the repo root, and `pip install -e .[dev]`. Quick when everything is already done.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"  # ldconfig: a minimal PATH (env -i, cron, some CI) lacks sbin
cd "$(dirname "$0")/.."

log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# --- Vulkan: SAPIEN renders through Vulkan; lavapipe (CPU) needs Mesa >= 24.3 ---------------
have_vulkan_device() {
    ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1 && return 0
    local v
    v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
    [ -n "$v" ] && dpkg --compare-versions "$v" ge 24.3 && ldconfig -p | grep -q libvulkan.so.1
}

if have_vulkan_device; then
    log "Vulkan render device found"
elif grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null && [ "$(id -u)" = 0 ]; then
    log "installing Mesa lavapipe from bookworm-backports (Debian's own Mesa 22.3 is too old for SAPIEN)"
    grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/ ||
        echo "deb http://deb.debian.org/debian bookworm-backports main" >/etc/apt/sources.list.d/bookworm-backports.list
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports \
        mesa-vulkan-drivers libvulkan1 vulkan-tools >/dev/null
else
    log "WARNING: no Vulkan render device. Generation, eval and the simulator tests need one. Install either"
    log "  a GPU driver with Vulkan (NVIDIA: the driver's Vulkan ICD), or Mesa lavapipe >= 24.3"
    log "  (Debian bookworm: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1;"
    log "   Ubuntu >= 24.10: apt-get install mesa-vulkan-drivers libvulkan1), then rerun this script."
    log "  Training alone needs no Vulkan: pip install -e .[train]"
fi

# --- Python environment ---------------------------------------------------------------------
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $($PY --version)"
    "$PY" -m venv .venv
fi
stamp=".venv/.hab-aux-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    # torch first, pinned, so pip does not pull the newest CUDA build with several GB of extras
    # on a CPU machine; override with HABAUX_TORCH="torch==X" for another build.
    .venv/bin/python -c 'import torch' 2>/dev/null ||
        .venv/bin/pip install -q --disable-pip-version-check "${HABAUX_TORCH:-torch==2.13.0}"
    log "pip install -e .[dev]"
    .venv/bin/pip install -q --disable-pip-version-check -e ".[dev]"
    rm -f .venv/.hab-aux-installed-*
    touch "$stamp"
else
    log ".venv is up to date"
fi
