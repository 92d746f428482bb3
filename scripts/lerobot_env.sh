#!/usr/bin/env bash
# Idempotent: an isolated venv with LeRobot, to check and use `habaux export --format lerobot`.
#
# LeRobot cannot live in .venv: lerobot 0.4.4 (the last release for Python 3.11) pins
# torch<2.11, torchvision<0.26 and rerun-sdk<0.27, while hab-aux uses torch 2.13. So it gets its
# own venv (default .venv-lerobot, gitignored; override with LEROBOT_VENV=path). PyPI's torch for
# x86-64 Linux is a CUDA build (about 3 GB with its nvidia packages; it runs on the CPU too).
# LeRobot decodes video with torchcodec, which needs FFmpeg's shared libraries: installed with
# apt-get where we are root on Debian/Ubuntu, else the script says what to install.
#
# Then: tests/hab_aux/test_export_lerobot_interop.py (pytest -m interop) loads an export with
# LeRobotDataset, and `$LEROBOT_VENV/bin/lerobot-train` trains a LeRobot policy on one.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"  # ldconfig: a minimal PATH (env -i, cron, some CI) lacks sbin
cd "$(dirname "$0")/.."

log() { printf '\033[1mlerobot_env:\033[0m %s\n' "$*"; }

VENV=${LEROBOT_VENV:-.venv-lerobot}
LEROBOT=${LEROBOT_SPEC:-lerobot==0.4.4}
PY=${PYTHON:-python3}

if ! ldconfig -p | grep -q 'libavutil\.so'; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing FFmpeg's libraries (torchcodec decodes LeRobot's videos with them)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
    else
        log "WARNING: no FFmpeg libraries (libavutil): install ffmpeg (e.g. apt-get install ffmpeg),"
        log "  or LeRobot cannot decode videos with torchcodec"
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $($PY --version)"
    "$PY" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(echo "$LEROBOT" | tr -c 'a-zA-Z0-9.\n' '_')"
if [ -f "$stamp" ]; then
    log "$VENV is up to date ($LEROBOT)"
    exit 0
fi
log "pip install $LEROBOT into $VENV (first time: several GB, mostly torch's CUDA packages)"
"$VENV/bin/pip" install -q --disable-pip-version-check "$LEROBOT"
"$VENV/bin/python" -c 'import lerobot.datasets.lerobot_dataset, torchcodec.decoders' # fails loudly if broken
rm -f "$VENV"/.installed-*
touch "$stamp"
log "ready: $VENV/bin/python, $VENV/bin/lerobot-train"
