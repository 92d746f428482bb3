#!/usr/bin/env bash
# Rerun the storage and speed benchmarks behind the README's benchmark table, one after another,
# each writing its section of benchmarks/results.md. Run it on an idle machine: the ratios are
# measured within each run, but absolute rates drop with anything else running.
#   bash scripts/storage_speed.sh [DATASET]     (default data/SetTable-240: habaux generate --task SetTable --episodes 240 --workers 2 --out data/SetTable-240)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-data/SetTable-240}
run() { echo "+ python $*"; .venv/bin/python "$@"; }
run benchmarks/storage_loading.py --dataset "$data" --episodes 40
run benchmarks/storage_loading.py --dataset "$data" --episodes 40 --depth-codec jpegxl
run benchmarks/compression.py --dataset "$data" --windows 16 --repeat 3
run benchmarks/training_inference.py --dataset "$data" --steps 60 --threads 1
run benchmarks/training_inference.py --dataset "$data" --preset small --steps 30 --threads 1 --workers 1
run benchmarks/batch_loading.py --data "$data" --preset small-conv --set decoders.global_pos.enabled=false --set action.chunk=1 \
    --set action.execute=1 --set inputs.depth=true --set inputs.proprio=false --set flow.state=false --set flow.objective=l1 \
    --set flow.execute=8 --set vision.token_positions=true --set llm.model.arch.num_hidden_layers=1 --set vision.stack_slots=true
run benchmarks/generation.py --task SetTable --subtask pick --episodes 4 --steps 200 --policy expert --launcher-episodes 48
run benchmarks/eval_workers.py --subtasks close-fridge --episodes 30 --workers 1,2
