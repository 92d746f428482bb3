"""Expert success and mean episode length per column, on val layouts, optionally under action noise.

Run: .venv/bin/python benchmarks/experts.py [--episodes 30] [--tasks SetTable,TidyHouse,PrepareGroceries]
     [--subtasks pick,open-drawer] [--action-noise 0.1] [--workers 2] [--reuse]
Each task's eval is the JSON of `habaux eval --policy expert --task T --episodes N [--action-noise S]
--json out/expert_eval/T[-noise-S].json`; `--reuse` tables JSONs already there (with N episodes per
column) instead of evaluating again. The table goes to benchmarks/results.md, one section per
noise level (the noise a generator's `--action-noise` adds: can the experts still recover?).
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
from hab_aux.generate.policies import policy_factory  # noqa: E402
from hab_aux.eval.report import write_json  # noqa: E402
from hab_aux.tasks import get_task, parse_subtasks  # noqa: E402


def task_report(name: str, config: EvalConfig, subtasks: tuple[str, ...] | None, out: Path, reuse: bool) -> dict:
    suffix = f"-noise-{config.action_noise:g}" if config.action_noise else ""
    path = out / f"{name}{suffix}{'-' + '_'.join(subtasks) if subtasks else ''}.json"
    if reuse and path.exists():
        report = json.loads(path.read_text())
        if all(c["episodes"] == config.episodes for c in report["policies"]["expert"]["columns"].values()):
            return report
    task = get_task(name)
    rows = evaluate_task(task, {"expert": policy_factory("expert")}, config, subtasks=subtasks)
    write_json(path, task.name, config.split, rows, config.source)
    return json.loads(path.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--tasks", default="SetTable,TidyHouse,PrepareGroceries")
    parser.add_argument("--out", type=Path, default=Path("out/expert_eval"))
    parser.add_argument("--subtasks", default=None, help="columns, as habaux eval --subtasks (default: all)")
    parser.add_argument("--action-noise", type=float, default=0.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    config = EvalConfig(episodes=args.episodes, action_noise=args.action_noise, workers=args.workers)
    rows = ["| task | column | successes | success rate | mean length (steps) | failure reasons |", "|---|---|---|---|---|---|"]
    started = time.perf_counter()
    for name in args.tasks.split(","):
        subtasks = parse_subtasks(get_task(name), args.subtasks) if args.subtasks else None
        for column, c in task_report(name, config, subtasks, args.out, args.reuse)["policies"]["expert"]["columns"].items():
            reasons = Counter(re.sub(r"-?\d+\.\d+", "x", f["reason"]) for f in c["failures"])  # group across values
            why = ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "-"
            rows.append(f"| {name} | {column} | {c['successes']}/{c['episodes']} | {c['success_rate']:.2f} | "
                        f"{c['mean_length']:.0f} | {why} |")  # fmt: skip
    took = f"this command took {time.perf_counter() - started:.0f} s with {args.workers} worker(s)"
    body = "\n".join(rows) + f"\n\n{config.source.capitalize()}, {args.episodes} episodes per column; {took}" + (
        " (reusing eval JSONs already measured)." if args.reuse else ".")  # fmt: skip
    section = f"Experts, action noise {args.action_noise:g}" if args.action_noise else "Experts"
    if args.subtasks:
        section += f" ({args.subtasks})"
    record(section, "python benchmarks/experts.py " + " ".join(sys.argv[1:]), body)


if __name__ == "__main__":
    main()
