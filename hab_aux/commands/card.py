"""`habaux card`: a markdown data card of a dataset, from its manifest, shards and schema.py."""

import json
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console

MSHAB_DIFFERENCE = """\
## How this differs from MS-HAB's data

MS-HAB stores raw observations (RGB + depth of both cameras) and actions in gzip-compressed HDF5,
about 52-58 KB per transition. This dataset keeps the same observations and actions (same camera
names, image size, depth in millimetres, 15-D qpos, 13-D `pd_joint_delta_pos` action) and adds,
recorded at generation time: the base pose (x, y, yaw), the target and TCP poses relative to the
base, the grasp flag, per-camera instance segmentation and the target's binary mask. Everything is
stored losslessly in sharded zarr v3 (zstd / blosc-zstd; depth with JPEG-XL if generated with
`--depth-codec jpegxl`), with per-chunk crc32c checksums."""

LABELS = """\
## Label definitions

- `*_mask`: `seg == target.per_scene_id`, the target object (pick/place) or the handle link
  (open/close) in that camera.
- `*_seg`: SAPIEN `per_scene_id` of the actor or link seen at each pixel (0 = nothing).
- `is_grasped`: `agent.is_grasping(target, max_angle=30)`.
- `base_pose`: `agent.base_link.pose` reduced to (x, y, yaw) in the world frame.
- `target_pose`, `tcp_pose`: `base_link.pose.inv() * pose`, xyz + wxyz quaternion.
- `success`: the subtask's success rule (mshab.md) at the episode's last step.
- Place scenes draw the goal on its receptacle, a flat white-and-red disc that nothing collides with
  and that has its own id in `*_seg` (from 2026-11-30; MS-HAB gives its policies the goal position as
  state instead)."""


def _table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _schema_section() -> str:
    from hab_aux import schema

    def rows(fields):
        return [[f"`{f.key}`", f.dtype, str(f.shape), f.role, f.doc] for f in fields]

    header = ["key", "dtype", "shape", "role", "meaning"]
    return (
        f"## Schema (version {schema.SCHEMA_VERSION})\n\nPer step (leading axis = step; `episode_ends` "
        f"delimits episodes):\n\n{_table(rows(schema.STEP_FIELDS), header)}\n\n"
        f"Per episode:\n\n{_table(rows(schema.EPISODE_FIELDS), header)}"
    )


def _progress_reports(root: Path) -> list[dict]:
    """Every generation run's per-worker progress (generate keeps them: .progress/<run>/shard-*.json), oldest first."""
    reports = [json.loads(p.read_text()) for p in (root / ".progress").rglob("*.json")]
    return sorted(reports, key=lambda r: r.get("started", 0.0))


def _expert_section(reports: list[dict], summary) -> str:
    """Success rate over all attempts of every run, when the generator's progress files record them."""
    stored = f"{summary.successes} of {summary.num_episodes} stored episodes are successes."
    if not reports:
        return f"## Expert\n\nAttempt counts not recorded. {stored}"
    attempted, kept = sum(r["attempted"] for r in reports), sum(r["kept"] for r in reports)
    failures: dict[str, int] = {}
    for r in reports:
        for reason, n in r.get("failures", {}).items():
            failures[reason] = failures.get(reason, 0) + n
    successes = attempted - sum(failures.values())
    lines = [f"## Expert\n\n{successes} of {attempted} attempts succeeded ({successes / max(attempted, 1):.1%}); "
             f"{kept} episodes kept. {stored}"]  # fmt: skip
    lines += [f"- failure `{k or '(none)'}`: {v}" for k, v in sorted(failures.items(), key=lambda kv: -kv[1])]
    return "\n".join(lines)


def _policy_section(ds) -> str:
    """Which policy recorded each subtask and target category. With `--policy mshab-rl` the name
    is `mshab-rl ALGO FOLDER`: the MS-HAB checkpoint (FOLDER/policy.pt) of that object."""
    recorded = Counter(zip(ds.meta_column("subtask"), ds.meta_column("target_category"), ds.meta_column("expert")))
    names = {name for _, _, name in recorded}
    if len(names) == 1:
        return f"## Policy\n\nEvery episode was recorded by `{names.pop()}`."
    rows = [[subtask, category, f"`{name}`", str(n)] for (subtask, category, name), n in sorted(recorded.items())]
    return "## Policy\n\n" + _table(rows, ["subtask", "target category", "policy", "episodes"])


def _demonstration_section(ds) -> str:
    """Settled endings and action noise, from the episode meta."""
    import numpy as np

    length, success_step = ds.meta_column("length"), ds.meta_column("success_step")
    settle = np.where(success_step > 0, length - success_step, 0)
    noise = sorted({round(float(v), 4) for v in ds.meta_column("action_noise")})
    counts = ", ".join(f"{n}: {int((settle == n).sum())}" for n in sorted(set(settle.tolist())))
    noise_text = ("none: executed actions are the recorded ones" if noise == [0.0] else
                  f"std {', '.join(map(str, noise))} (normalised units) on the executed actions; the recorded "
                  "`action` is the expert's clean action for the state. No noise on the head or the gripper, on the base only "
                  "while the expert drives it, none on settle steps")  # fmt: skip
    return (f"## Demonstrations\n\n- Settle steps (`after_success`: recorded after the success step, the expert "
            f"holding still; success is judged on the last step): {int(settle.sum())} in all; episodes by count: {counts}.\n"
            f"- Action noise (DART-style recovery data): {noise_text}.")  # fmt: skip


def render_card(root: Path) -> str:
    from hab_aux.inspect.summary import summarize
    from hab_aux.store import open_dataset

    ds = open_dataset(root)
    s = summarize(ds)
    manifest = ds.manifests[0]
    reports = _progress_reports(root)
    commands = [c for c in dict.fromkeys(r.get("command", "") for r in reports) if c]  # in run order: a resumed dataset has several
    commands = commands or sorted({e["generation"].get("command", "") for e in manifest["shards"]} - {""})
    counts = [[t, sub, cat, str(e), str(n)] for (t, sub, cat), (e, n) in s.groups.items()]
    parts = [
        f"# Data card: {root.name}",
        f"{s.num_episodes} episodes, {s.num_steps} transitions, {len(manifest['shards'])} shard(s), "
        f"tasks: {', '.join(manifest['tasks'])}; {s.bytes_per_step:,.0f} bytes per transition on disk.",
        "## Counts\n\n" + _table(counts, ["task", "subtask", "target category", "episodes", "transitions"]),
        "Splits: " + ", ".join(f"{k}: {v} episodes" for k, v in sorted(s.splits.items())),
        "## Generation\n\n" + ("\n".join(f"```\n{c}\n```" for c in commands) or "Command not recorded."),
        _policy_section(ds),
        _expert_section(reports, s),
        _demonstration_section(ds),
        _schema_section(),
        LABELS,
        MSHAB_DIFFERENCE,
    ]
    return "\n\n".join(parts) + "\n"


def command(
    dataset: Path = typer.Argument(..., help="dataset folder (holds manifest.json)"),
    out: Path | None = typer.Option(None, "--out", help="markdown file to write (default data_cards/NAME.md)"),
) -> None:
    """Write a markdown data card for DATASET: schema, counts, generation command, expert success."""
    out = out or Path("data_cards") / f"{dataset.resolve().name}.md"
    text = render_card(dataset)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    Console().print(f"wrote {out}")
