#!/usr/bin/env bash
# The main job on the embedded default world: set up (idempotent), check the simulator,
# generate a small SetTable dataset with the expert, and inspect it. Output goes to out/quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
habaux doctor
habaux generate --task SetTable --subtasks pick,place --episodes 8 --workers 2 --out out/quickstart/SetTable
habaux inspect out/quickstart/SetTable --episode 0 --out out/quickstart/SetTable_masks.png --verify
