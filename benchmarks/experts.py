"""Expert success and mean episode length per column, on val layouts.

Run: .venv/bin/python benchmarks/experts.py [--episodes 30] [--tasks SetTable,TidyHouse,PrepareGroceries] [--reuse]
Each task's eval is the JSON of `habaux eval --policy expert --task T --episodes N --json out/expert_eval/T.json`;
`--reuse` tables JSONs already there (with N episodes per column) instead of evaluating again.
The table goes to benchmarks/results.md.
"""

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import record  # noqa: E402

from hab_aux.eval.harness import EvalConfig, evaluate_task  # noqa: E402
from hab_aux.eval.policies import policy_factory  # noqa: E402
from hab_aux.eval.report import write_json  # noqa: E402
from hab_aux.tasks import get_task  # noqa: E402


def task_report(name: str, episodes: int, out: Path, reuse: bool) -> dict:
    path = out / f"{name}.json"
    if reuse and path.exists():
        report = json.loads(path.read_text())
        if all(c["episodes"] == episodes for c in report["policies"]["expert"]["columns"].values()):
            return report
    task, config = get_task(name), EvalConfig(episodes=episodes)
    write_json(path, task.name, config.split, evaluate_task(task, {"expert": policy_factory("expert")}, config))
    return json.loads(path.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--tasks", default="SetTable,TidyHouse,PrepareGroceries")
    parser.add_argument("--out", type=Path, default=Path("out/expert_eval"))
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    rows = ["| task | column | successes | success rate | mean length (steps) | failure reasons |", "|---|---|---|---|---|---|"]
    started = time.perf_counter()
    for name in args.tasks.split(","):
        for column, c in task_report(name, args.episodes, args.out, args.reuse)["policies"]["expert"]["columns"].items():
            reasons = Counter(re.sub(r"-?\d+\.\d+", "x", f["reason"]) for f in c["failures"])  # group across values
            why = ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "-"
            rows.append(f"| {name} | {column} | {c['successes']}/{c['episodes']} | {c['success_rate']:.2f} | "
                        f"{c['mean_length']:.0f} | {why} |")  # fmt: skip
    body = "\n".join(rows) + f"\n\nVal layouts, {args.episodes} episodes per column; this command took {time.perf_counter() - started:.0f} s" + (
        " (reusing eval JSONs already measured)." if args.reuse else ".")  # fmt: skip
    record("Experts", "python benchmarks/experts.py " + " ".join(sys.argv[1:]), body)


if __name__ == "__main__":
    main()
