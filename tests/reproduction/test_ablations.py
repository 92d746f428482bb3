"""The ablations and scales as data: equal budgets, real recipes, published rows, one-line errors."""

import subprocess
import sys

import pytest

from hab_aux.paper import PAPER
from hab_aux.reproduction.ablations import ABLATIONS, get_ablation, get_scale
from hab_aux.train.recipes import RECIPES
from tests.reproduction.micro import MAIN


def test_every_run_of_an_ablation_has_the_same_budget():
    paper, tiny = get_scale("paper"), get_scale("tiny")
    seg, flow = get_ablation("seg-objpose"), get_ablation("flow-head")
    assert paper.schedule(seg, "direct-il") == "joint=6ep" and paper.schedule(seg, "seg-objpose") == "adapt=2ep,joint=4ep"
    assert paper.schedule(flow, "sgvla-flow") == "adapt=3ep,joint=7ep,expert=3ep"  # the expert stage on top
    assert tiny.schedule(MAIN, "direct-il") == "joint=2500" and tiny.schedule(MAIN, "sgvla") == "adapt=750,joint=1750"
    assert paper.episodes(MAIN, MAIN.data[0]) == 8000
    assert [paper.episodes(seg, d) for d in seg.data] == [13334] * 3  # 40K pick/place episodes over three tasks


def test_ablations_name_real_recipes_and_published_rows():
    for ablation in ABLATIONS.values():
        assert len({r.label for r in ablation.rows}) == len(ablation.rows)
        for row in ablation.rows:
            assert row.recipe in RECIPES
            if row.paper:
                assert row.paper[1] in PAPER[row.paper[0]]


@pytest.mark.parametrize(("args", "expected"), [
    (["reproduce", "table9", "--scale", "tiny"], "unknown ablation 'table9'; valid: main, decoders, flow-head, seg-objpose"),
    (["reproduce", "main", "--scale", "huge"], "unknown scale 'huge'; valid: tiny, small, paper"),
])  # fmt: skip
def test_bad_names_are_one_line(args, expected):
    done = subprocess.run([sys.executable, "-c", "from hab_aux.cli import main; main()", *args], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [f"error: {expected}"], done.stderr
