"""Do near-identical scenes get near-identical expert motions? A learnability check on a dataset.

Run: .venv/bin/python benchmarks/expert_consistency.py --data data/SetTable-mid-240 [--steps 40]

A policy can only copy an expert whose next action follows from what it sees. For each episode,
this finds the episode of the same column and target category whose first frame is nearest in the target's pose
relative to the robot base (position, plus its yaw as (cos 2y, sin 2y) x 5 cm, which a half-turn
symmetric object leaves alone), and compares their torso and arm joint positions over the first
`--steps` steps: the largest joint difference at any of those steps. Two scenes a few centimetres
apart whose motions differ by radians mean an expert choice that no observation shows (an IK
branch, a grasp twin). The first action is compared the same way.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import record  # noqa: E402

from hab_aux.generate.experts.motion import BODY_IDX, body_difference  # noqa: E402
from hab_aux.store import open_dataset  # noqa: E402
from hab_aux.tasks import column_key  # noqa: E402

YAW_SCALE = 0.05  # m per unit of (cos 2y, sin 2y)
# Columns whose scene no stored key describes: place's target is the held object, and its goal spot
# (what tells place episodes apart) is drawn in the images but stored nowhere.
UNDESCRIBED = {"place": "its goal spot is in no stored key"}
APART = 0.5  # rad: a difference this large is a different motion, not noise


def scene_feature(target_pose: np.ndarray) -> np.ndarray:
    """(5,) target position in the base frame and its yaw as a half-turn-symmetric pair, in metres."""
    w, x, y, z = target_pose[3:]
    yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return np.concatenate([target_pose[:3], YAW_SCALE * np.array([np.cos(2 * yaw), np.sin(2 * yaw)])])


def column_stats(features, categories, motions, first_actions) -> dict:
    f = np.array(features)
    d = np.linalg.norm(f[:, None] - f[None], axis=-1)
    d[np.array(categories)[:, None] != np.array(categories)[None]] = np.inf  # another object is another grasp
    np.fill_diagonal(d, np.inf)
    nn = d.argmin(1)
    # roll joints modulo a full turn
    motion = np.array([np.abs(body_difference(m, motions[j])).max() for m, j in zip(motions, nn)])
    action = np.abs(np.array(first_actions) - np.array(first_actions)[nn]).max(1)
    return dict(n=len(f), scene=np.median(d.min(1)), motion=np.median(motion), apart=(motion > APART).mean(),
                action=np.median(action))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    ds = open_dataset(args.data)
    columns: dict[str, tuple[list, list, list, list]] = {}
    for i in range(len(ds.episode_ends)):
        meta = ds.episode_meta(i)
        key = column_key(meta["subtask"], meta["target_category"])
        if not meta["success"] or key in UNDESCRIBED:
            continue
        ep = ds.episode(i, keys=("qpos", "target_pose", "action"))
        f, c, m, a = columns.setdefault(key, ([], [], [], []))
        f.append(scene_feature(ep["target_pose"][0]))
        c.append(meta["target_category"])
        m.append(ep["qpos"][: args.steps, BODY_IDX])
        a.append(ep["action"][0])
    steps = min(len(m) for *_, ms, _ in columns.values() for m in ms)
    rows = ["| column | episodes | nearest scene (median, m) | joint difference over the first steps (median, rad) "
            f"| pairs > {APART} rad apart | first action difference (median) |", "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for key, (f, c, m, a) in columns.items():
        s = column_stats(f, c, [x[:steps] for x in m], a)
        rows.append(f"| {key} | {s['n']} | {s['scene']:.3f} | {s['motion']:.2f} | {s['apart']:.2f} | {s['action']:.2f} |")
    body = (f"Data: `{args.data}`, successful episodes, first {steps} steps. Each episode against the episode of its "
            "column with the nearest first-frame target pose relative to the base. "
            + "".join(f"Not compared: {k} ({why}). " for k, why in UNDESCRIBED.items()) + "\n\n" + "\n".join(rows))  # fmt: skip
    record(f"Expert consistency, {args.data}", "python benchmarks/expert_consistency.py " + " ".join(sys.argv[1:]), body)


if __name__ == "__main__":
    main()
