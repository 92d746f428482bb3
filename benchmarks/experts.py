"""Expert success and mean episode length per column, on val layouts.

Run: .venv/bin/python benchmarks/experts.py [--episodes 30] [--tasks SetTable,TidyHouse,PrepareGroceries]
Writes each task's eval JSON to out/expert_eval/<task>.json and the table to benchmarks/results.md.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import record  # noqa: E402

from hab_aux.eval.harness import EvalConfig, evaluate_task  # noqa: E402
from hab_aux.eval.policies import policy_factory  # noqa: E402
from hab_aux.eval.report import write_json  # noqa: E402
from hab_aux.tasks import get_task  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--tasks", default="SetTable,TidyHouse,PrepareGroceries")
    parser.add_argument("--out", type=Path, default=Path("out/expert_eval"))
    args = parser.parse_args()
    rows = ["| task | column | successes | success rate | mean length (steps) | failure reasons |", "|---|---|---|---|---|---|"]
    started = time.perf_counter()
    for name in args.tasks.split(","):
        task = get_task(name)
        config = EvalConfig(episodes=args.episodes)
        result = evaluate_task(task, {"expert": policy_factory("expert")}, config)
        write_json(args.out / f"{task.name}.json", task.name, config.split, result)
        for column in result["expert"]:
            reasons = {}
            for e in column.episodes:
                if not e.success:
                    reasons[e.failure_reason] = reasons.get(e.failure_reason, 0) + 1
            why = ", ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "-"
            rows.append(f"| {task.name} | {column.column} | {column.successes}/{len(column.episodes)} | "
                        f"{column.success_rate:.2f} | {column.mean_length:.0f} | {why} |")  # fmt: skip
    body = "\n".join(rows) + f"\n\nVal layouts, {args.episodes} episodes per column; wall time {time.perf_counter() - started:.0f} s.\n"
    record("Experts", "python benchmarks/experts.py " + " ".join(sys.argv[1:]), body)


if __name__ == "__main__":
    main()
