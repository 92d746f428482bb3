"""Does the expert wait on a counter a policy cannot see? A learnability check on a dataset.

Run: .venv/bin/python benchmarks/still_stretches.py --data data/SetTable-det-240

A still stretch is a run of steps in which no joint of the robot (base, torso, arm, gripper, head)
moves more than STILL per step, ended by the robot moving again before the episode's settle steps.
Its frames are all but identical, so when the expert ends it (a phase's step limit, a wait for a
stall) no observation says; a single-frame policy fitted to it learns to stay. Session 14 found the
Place expert's base approach creeping 27-41 such steps before the arm set off on step 61 of 36 of
40 episodes, and every learned policy waiting until the time ran out. Per column: the longest
stretch of each episode, and how many episodes have one of LONG steps or more.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import record  # noqa: E402

from hab_aux.store import open_dataset  # noqa: E402
from hab_aux.tasks import column_key  # noqa: E402

STILL = 0.002  # rad or m per step: below this no joint has visibly moved
LONG = 10  # steps: a stretch this long is a wait a policy must time


def longest_stretch(qpos: np.ndarray, after_success: np.ndarray) -> int:
    """The longest run of still steps (each step's joint change under STILL) that the robot leaves
    before its settle steps; 0 when there is none."""
    moving = np.abs(np.diff(qpos, axis=0)).max(1) >= STILL  # step t -> t+1
    settled = int(np.argmax(after_success)) if after_success.any() else len(qpos)
    longest = run = 0
    for t in range(min(len(moving), settled - 1)):
        if moving[t]:
            longest, run = max(longest, run), 0
        else:
            run += 1
    return longest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    data = open_dataset(args.data)
    stretches: dict[str, list[int]] = {}
    for e, meta in enumerate(data.meta):
        steps = data.episode(e, ("qpos", "after_success"))
        key = column_key(meta["subtask"], meta["target_category"])
        stretches.setdefault(key, []).append(longest_stretch(steps["qpos"], steps["after_success"]))
    rows = [f"| {key} | {len(s)} | {int(np.median(s))} | {max(s)} | {sum(x >= LONG for x in s)} |" for key, s in stretches.items()]
    body = "\n".join([
        f"The longest still stretch per episode (steps in which no joint moves {STILL} or more, that the robot then "
        f"leaves before its settle steps), per column:", "",
        f"| column | episodes | median | longest | episodes with {LONG} or more |", "|---|---:|---:|---:|---:|", *rows,
    ])  # fmt: skip
    record(f"Still stretches in {args.data}", f"python benchmarks/still_stretches.py --data {args.data}", body)


if __name__ == "__main__":
    main()
