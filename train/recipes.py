"""Named training recipes: the paper's rows as data (which decoders, which stages for how long, which data).

A schedule is a sequence of phases, each a stage of the model config (`adapt`, `joint`, `expert`)
run for some epochs or optimizer steps. `--schedule adapt=300,joint=700` overrides it in steps,
`adapt=3ep,joint=7ep` in epochs.
"""

import dataclasses
from dataclasses import dataclass

from hab_aux import paper
from hab_aux.errors import UserError, choose
from hab_aux.paper import PaperRow
from hab_aux.train.model.configuration_sgvla import SGVLAConfig

ALL_DECODERS = ("global_pos", "grasp", "object_pose", "joint_pose", "mask")


@dataclass(frozen=True)
class Phase:
    stage: str
    epochs: float = 0.0
    steps: int = 0

    def __post_init__(self):
        if (self.epochs > 0) == (self.steps > 0):
            raise UserError(f"phase {self.stage!r}: give a positive number of epochs or steps, not both")

    def optimizer_steps(self, steps_per_epoch: int) -> int:
        return self.steps or max(1, round(self.epochs * steps_per_epoch))


@dataclass(frozen=True)
class Recipe:
    name: str
    paper_row: PaperRow  # the row of SG-VLA's tables it reproduces
    decoders: tuple[str, ...]
    phases: tuple[Phase, ...]
    flow: bool = False
    subtasks: tuple[str, ...] | None = None  # train only on episodes of these subtasks

    def model_config(self, config: SGVLAConfig) -> SGVLAConfig:
        """The preset with exactly this recipe's decoders and heads switched on."""
        decoders = tuple(dataclasses.replace(d, enabled=d.name in self.decoders) for d in config.decoders)
        known = {d.name for d in config.decoders}
        if unknown := set(self.decoders) - known:
            raise UserError(f"recipe {self.name} names decoders {sorted(unknown)} the preset lacks; it has {sorted(known)}")
        return config.replace(decoders=decoders, flow=dataclasses.replace(config.flow, enabled=self.flow))


_PROGRESSIVE = (Phase("adapt", epochs=3), Phase("joint", epochs=7))
RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("direct-il", paper.DIRECT_IL, (), (Phase("joint", epochs=10),)),
        Recipe("naive-all", paper.NAIVE_ALL, ALL_DECODERS, (Phase("joint", epochs=10),)),
        Recipe("grasp", paper.GRASP, ("grasp",), _PROGRESSIVE),
        Recipe("qpos", paper.QPOS, ("joint_pose",), _PROGRESSIVE),
        Recipe("global-pos", paper.GLOBAL_POS, ("global_pos",), _PROGRESSIVE),
        Recipe("sgvla", paper.SGVLA, ALL_DECODERS, _PROGRESSIVE),
        Recipe("seg-objpose", paper.TABLE4_SEG_OBJPOS, ("mask", "object_pose"),
               (Phase("adapt", epochs=2), Phase("joint", epochs=4)), subtasks=("pick", "place")),  # fmt: skip
        Recipe("sgvla-flow", paper.SGVLA_FLOW, ALL_DECODERS,
               (*_PROGRESSIVE, Phase("expert", epochs=3)), flow=True),  # fmt: skip
    )
}


def get_recipe(name: str) -> Recipe:
    return RECIPES[choose("recipe", name, RECIPES)]


def parse_schedule(recipe: Recipe, spec: str | None) -> tuple[Phase, ...]:
    """`adapt=300,joint=700` (steps) or `adapt=3ep,joint=7ep` (epochs); None keeps the recipe's."""
    if not spec:
        return recipe.phases
    phases = []
    for item in spec.split(","):
        stage, _, amount = item.partition("=")
        try:
            value = float(amount[:-2]) if amount.endswith("ep") else int(amount)
        except ValueError:
            raise UserError(f"--schedule item {item!r} must look like stage=STEPS or stage=EPOCHSep") from None
        phases.append(Phase(stage.strip(), epochs=value) if amount.endswith("ep") else Phase(stage.strip(), steps=value))
    return tuple(phases)


def stage_at(phases: tuple[Phase, ...], steps_per_epoch: int, step: int) -> str | None:
    """The stage that optimizer step `step` (0-based) trains in; None once the schedule is over."""
    for phase in phases:
        step -= phase.optimizer_steps(steps_per_epoch)
        if step < 0:
            return phase.stage
    return None


def total_steps(phases: tuple[Phase, ...], steps_per_epoch: int) -> int:
    return sum(p.optimizer_steps(steps_per_epoch) for p in phases)
