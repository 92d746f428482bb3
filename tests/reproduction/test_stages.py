"""Stage names and the configs and equivalent commands each stage runs."""

import shlex
from dataclasses import replace

from hab_aux.reproduction.ablations import DataSpec, Row
from hab_aux.reproduction.definition import Reproduction
from hab_aux.reproduction.stages import data_stage, eval_config, eval_stage, train_command, train_config, train_stage
from hab_aux.train.config import TrainConfig
from tests.reproduction.micro import MAIN, MICRO


def test_stage_names():
    rep = Reproduction(MAIN, MICRO, "out", episodes_eval=3)
    assert data_stage(DataSpec("SetTable")) == "data-SetTable"
    assert train_stage("sgvla") == "train-sgvla"
    assert eval_stage(rep, Row("sgvla-flow", "tokens"), DataSpec("SetTable")) == "eval-sgvla-flow-tokens-SetTable-3ep"


def test_the_train_command_spells_out_every_setting_of_the_config(tmp_path):
    rep = Reproduction(MAIN, MICRO, tmp_path / "out")
    config = train_config(rep, "naive-all")
    assert (config.recipe, config.schedule, config.batch_size, config.lr) == ("naive-all", "joint=10", 2, 2e-5)
    changed = replace(config, labels="all", shift=4, overrides=("inputs.depth=false", "flow.enabled=true"))
    args = shlex.split(train_command(changed))
    assert args[:2] == ["habaux", "train"]
    for flag, value in (("--labels", "all"), ("--shift", "4"), ("--recipe", "naive-all"), ("--lr", "2e-05")):
        assert args[args.index(flag) + 1] == value
    assert [args[i + 1] for i, a in enumerate(args) if a == "--set"] == ["inputs.depth=false", "flow.enabled=true"]
    assert "--max-steps" not in args and "--keep-every" not in args  # unset (None): the defaults
    assert TrainConfig(data=("d",), out="o").labels != "all"  # so --labels above is not a default


def test_evaluation_uses_the_scales_step_budget():
    assert eval_config(Reproduction(MAIN, MICRO, "out", episodes_eval=3)).max_steps == MICRO.eval_max_steps
