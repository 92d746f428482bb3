"""`habaux reproduce`'s ablations and scales, as data (no torch: the CLI's help reads them).

An ablation names the datasets it trains on (one per task), the rows it compares (a training
recipe and an action head each) and the published row each is printed beside. Every run of an
ablation trains on the same datasets with the same budget: `epochs` epochs of backbone training,
its recipe's stages rescaled to that total (direct IL's 10 joint epochs become 6 in the Table 4
ablation); the flow head's `expert` stage (backbone frozen) comes on top, as in the paper.
Evaluation uses the same tasks and subtasks as the data, on val layouts.

A scale sets the model, the data size and what an epoch means. At `paper` scale an epoch is a
pass over the data; at `tiny` and `small` it is `steps_per_epoch` optimizer steps, a fraction of
a pass (the report prints how many passes each run made). Each scale's `cost` is printed by
`habaux reproduce --help`. The tiny figures come from `habaux reproduce main --scale tiny
--episodes-eval 10 --reuse-data data/SetTable-pickplace,data/SetTable-drawer` (its stage records,
reproduce/main-tiny/stages/*.json) on this project's 2-core CPU machine, each job on one core with
another job on the other (2026-11-21):
- training: 160, 172 and 229 s wall for direct-il, naive-all and sgvla (2,500 steps each).
- evaluation: 866 s for direct-il's 60 episodes (10,570 steps): 12 steps/s, 14 s per episode.
- generation: 120 pick/place episodes in 594 s, 100 drawer episodes in 722 s (out/gen_*.log).
- lr 3e-4: a 200-step sgvla run on synthetic data ended with a token loss of 5.45 against 6.08 at
  the paper's 2e-5 (mean of the last 40 steps); not tuned further.
"""

import dataclasses
import math
from dataclasses import dataclass

from hab_aux import paper
from hab_aux.errors import choose
from hab_aux.paper import PaperRow
from hab_aux.tasks import MAX_EPISODE_STEPS, Column, get_task, select_columns
from hab_aux.train.recipes import get_recipe

EXPERT_STAGE = "expert"  # the flow head's own stage: not part of the backbone budget


@dataclass(frozen=True)
class DataSpec:
    task: str
    subtasks: tuple[str, ...] | None = None  # None: every subtask of the task

    @property
    def columns(self) -> tuple[Column, ...]:
        return select_columns(get_task(self.task), self.subtasks)


@dataclass(frozen=True)
class Row:
    recipe: str
    head: str = "auto"  # eval head: auto (flow for pick/place, tokens for open/close), tokens, flow
    paper: PaperRow | None = None  # the published row printed beside it

    @property
    def label(self) -> str:
        return f"{self.recipe} ({self.head} head)" if get_recipe(self.recipe).flow else self.recipe

    @property
    def slug(self) -> str:
        return f"{self.recipe}-{self.head}"


@dataclass(frozen=True)
class Ablation:
    name: str
    summary: str
    data: tuple[DataSpec, ...]
    rows: tuple[Row, ...]
    epochs: float  # backbone-training epochs of every run (the paper's)
    paper_episodes: int  # the paper's dataset size for these runs

    @property
    def recipes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.recipe for r in self.rows))

    @property
    def columns(self) -> list[tuple[str, DataSpec, Column]]:
        """(label, data, column) of every evaluated column; labels name the task when there are several."""
        several = len(self.data) > 1
        return [(f"{d.task} {c.name}" if several else c.name, d, c) for d in self.data for c in d.columns]

    def phases(self, recipe: str) -> list[tuple[str, float]]:
        """(stage, epochs) of a run under this ablation's budget."""
        phases = get_recipe(recipe).phases
        backbone = sum(p.epochs for p in phases if p.stage != EXPERT_STAGE)
        return [(p.stage, p.epochs if p.stage == EXPERT_STAGE else p.epochs * self.epochs / backbone) for p in phases]


@dataclass(frozen=True)
class Scale:
    name: str
    preset: str
    episodes_per_column: int | None  # None: the paper's dataset size
    steps_per_epoch: int | None  # None: an epoch is a pass over the data
    batch_size: int  # per micro-batch; the optimizer's batch is batch_size * grad_accum
    grad_accum: int = 1
    lr: float = 2e-5
    loader_workers: int = 2
    save_every: int = 200
    eval_max_steps: int = MAX_EPISODE_STEPS
    cost: str = ""

    def episodes(self, ablation: Ablation, data: DataSpec) -> int:
        if self.episodes_per_column is not None:
            return self.episodes_per_column * len(data.columns)
        total = sum(len(d.columns) for d in ablation.data)
        return math.ceil(ablation.paper_episodes * len(data.columns) / total)

    def schedule(self, ablation: Ablation, recipe: str) -> str:
        """The `--schedule` of a run: steps at a step-budget scale, epochs at the paper's."""
        phases = ablation.phases(recipe)
        if self.steps_per_epoch is None:
            return ",".join(f"{stage}={epochs:g}ep" for stage, epochs in phases)
        return ",".join(f"{stage}={max(1, round(epochs * self.steps_per_epoch))}" for stage, epochs in phases)

    def identity(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "cost"}


_SET_TABLE = (DataSpec("SetTable"),)
ABLATIONS: dict[str, Ablation] = {
    a.name: a
    for a in (
        Ablation(
            "main", "SetTable: direct IL vs naive co-training vs SG-VLA's progressive training (paper: 0.60, 0.51, 0.73)",
            _SET_TABLE,
            (Row("direct-il", paper=paper.DIRECT_IL),
             Row("naive-all", paper=paper.NAIVE_ALL),
             Row("sgvla", paper=paper.SGVLA)),
            epochs=10, paper_episodes=8000,
        ),  # fmt: skip
        Ablation(
            "decoders", "SetTable: direct IL vs one progressive decoder at a time vs all (paper: 0.60; 0.66, 0.71, 0.65; 0.73)",
            _SET_TABLE,
            (Row("direct-il", paper=paper.DIRECT_IL),
             Row("grasp", paper=paper.GRASP),
             Row("qpos", paper=paper.QPOS),
             Row("global-pos", paper=paper.GLOBAL_POS),
             Row("sgvla", paper=paper.SGVLA)),
            epochs=10, paper_episodes=8000,
        ),  # fmt: skip
        Ablation(
            "flow-head", "SetTable: SG-VLA with token actions vs the flow-matching head, per head (paper: 0.73 vs 0.69)",
            _SET_TABLE,
            (Row("sgvla", paper=paper.SGVLA),
             Row("sgvla-flow", "auto"),
             Row("sgvla-flow", "tokens"),
             Row("sgvla-flow", "flow", paper=paper.SGVLA_FLOW)),
            epochs=10, paper_episodes=8000,
        ),  # fmt: skip
        Ablation(
            "seg-objpose", "Pick/place of all three tasks: direct IL vs + mask + object-pose decoders (paper Table 4: 0.27 vs 0.47)",
            tuple(DataSpec(t, ("pick", "place")) for t in ("SetTable", "PrepareGroceries", "TidyHouse")),
            (Row("direct-il", paper=paper.TABLE4_DIRECT_IL),
             Row("seg-objpose", paper=paper.TABLE4_SEG_OBJPOS)),
            epochs=6, paper_episodes=40000,
        ),  # fmt: skip
    )
}

SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale(
            "tiny", "tiny", episodes_per_column=50, steps_per_epoch=250, batch_size=8, lr=3e-4,
            cost="tiny preset (random init), 50 episodes per column, batch 8, lr 3e-4, an epoch of budget = 250 steps. "
                 "Measured on a 2-core CPU machine, one core per job (README, reproduce main): 3-4 min per 10-epoch "
                 "run of 2,500 steps; eval 14 s per episode on average (12 steps/s), so about 15 min per row of 6 "
                 "columns at --episodes-eval 10 and 45 min at 30; generation 5-7 s per expert episode, about 30 min "
                 "for 50 episodes of each of 6 columns",
        ),  # fmt: skip
        Scale(
            "small", "sgvla-1.3b", episodes_per_column=200, steps_per_epoch=None, batch_size=8, grad_accum=8, save_every=1000,
            cost="sgvla-1.3b, 200 episodes per column, the paper's epochs, batch 64 (8 x 8 accumulated); one GPU; "
                 "not measured",
        ),  # fmt: skip
        Scale(
            "paper", "sgvla-1.3b", episodes_per_column=None, steps_per_epoch=None, batch_size=16, grad_accum=32, save_every=1000,
            cost="sgvla-1.3b, the paper's 8K (SetTable) / 40K (pick/place) episodes and epochs, batch 512 "
                 "(16 x 32 accumulated, in one process; the paper used 8 A100s); not measured",
        ),  # fmt: skip
    )
}


def get_ablation(name: str) -> Ablation:
    return ABLATIONS[choose("ablation", name, ABLATIONS)]


def get_scale(name: str) -> Scale:
    return SCALES[choose("scale", name, SCALES)]
