"""Wall time of `habaux eval --workers N` against one process, on the same episodes.

Run: .venv/bin/python benchmarks/eval_workers.py [--subtasks close-fridge] [--episodes 30] [--workers 1,2]
The expert runs the same val episodes once per worker count; the script checks that every count
gives the same results (they must: an episode depends only on its seeds) and writes the times to
benchmarks/results.md. Run it on an otherwise idle machine.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import record  # noqa: E402

from hab_aux.eval.harness import EvalConfig, evaluate_task  # noqa: E402
from hab_aux.generate.policies import policy_factory  # noqa: E402
from hab_aux.tasks import get_task, parse_subtasks  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="SetTable")
    parser.add_argument("--subtasks", default="close-fridge")
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    task = get_task(args.task)
    subtasks = parse_subtasks(task, args.subtasks)
    rows, outcomes, walls = ["| workers | wall time (s) | speed-up | successes |", "|---|---|---|---|"], {}, {}
    for workers in map(int, args.workers.split(",")):
        started = time.perf_counter()
        result = evaluate_task(task, {"expert": policy_factory("expert")}, EvalConfig(episodes=args.episodes, workers=workers),
                               subtasks=subtasks)  # fmt: skip
        walls[workers] = wall = time.perf_counter() - started
        episodes = [e for c in result["expert"] for e in c.episodes]
        outcomes[workers] = [(e.info.layout_seed, e.success, e.length, e.failure_reason) for e in episodes]
        speedup = next(iter(walls.values())) / wall
        rows.append(f"| {workers} | {wall:.0f} | {speedup:.2f}x | {sum(e.success for e in episodes)}/{len(episodes)} |")
    same = all(o == next(iter(outcomes.values())) for o in outcomes.values())
    body = "\n".join(rows) + (f"\n\n{args.task} {args.subtasks}, expert, {args.episodes} val episodes per column. "
                              f"Every worker count gave {'the same' if same else 'DIFFERENT'} per-episode results.")  # fmt: skip
    record("Evaluation workers", "python benchmarks/eval_workers.py " + " ".join(sys.argv[1:]), body)
    if not same:
        raise SystemExit("worker counts disagree")


if __name__ == "__main__":
    main()
