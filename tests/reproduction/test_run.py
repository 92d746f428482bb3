"""`habaux reproduce`: a real ablation end to end at a micro scale (synthetic data, fake env), resume, other options."""

import json
import re
from pathlib import Path

import pytest
import torch
from rich.console import Console

from hab_aux.errors import UserError
from hab_aux.paper import PAPER, TABLE2_COLUMNS
from hab_aux.reproduction.ablations import SCALES
from hab_aux.reproduction.definition import Reproduction
from hab_aux.reproduction.run import reproduce
from tests.eval.fake_env import FakeEnv
from tests.reproduction.micro import MAIN, MICRO, dataset


def _fake_env(task, subtask, articulation=None, **kwargs):
    """Pick and open succeed at once, place and close never: every row scores 1 0 1 1 0 0."""
    return FakeEnv(task, subtask, articulation, needed=0 if subtask in ("pick", "open") else 99, **kwargs)


def _report_lines(report: Path) -> list[str]:
    return [line for line in report.read_text().splitlines() if not line.startswith("Written ")]


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """The `main` ablation run once: (reproduction, report path)."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("reproduce")
    data = dataset(root / "SetTable", "SetTable", ("pick", "place", "open", "close"))
    rep = Reproduction(MAIN, MICRO, root / "out", episodes_eval=2, reuse_data=(data,))
    report = reproduce(rep, Console(quiet=True), make_env=_fake_env)
    return rep, report


def test_report_has_every_row_with_ours_beside_the_papers(done):
    rep, report = done
    text = report.read_text()
    header = "| row | numbers | Pick | Place | Open F | Open D | Close F | Close D | Avg |"
    assert header in text
    for row in MAIN.rows:
        results = json.loads(rep.eval_json(row, "SetTable").read_text())["policies"][row.label]
        rates = [results["columns"][c]["success_rate"] for c in TABLE2_COLUMNS[:-1]]
        ours = " | ".join(f"{r:.2f}" for r in rates + [results["average"]])
        assert f"| {row.label} | ours | {ours} |" in text
        assert ours == "1.00 | 0.00 | 1.00 | 1.00 | 0.00 | 0.00 | 0.50"
        paper = " | ".join(f"{v:.2f}" for v in PAPER["Table 2"][row.paper[1]].values())
        assert f"| | paper (Table 2: {row.paper[1]}) | {paper} |" in text
    assert "| | paper (Table 2: SG-VLA: + all, progressive) | 0.13 | 0.70 | 0.87 | 0.77 | 0.90 | 1.00 | 0.73 |" in text


def test_report_states_data_budget_commands_and_wall_times(done):
    rep, report = done
    text = report.read_text()
    assert f"Command: `{rep.command()}`" in text
    assert re.search(r"\| \S+SetTable \| SetTable \| pick 1, place 1, open-drawer 1, close-drawer 1 \| 4 \| 32 \| reused \(--reuse-data\) \| — \|", text)
    # the same budget: 10 epochs of 1 step, split 3 + 7 by the progressive recipe
    assert re.search(r"\| \S+runs/direct-il \| joint=10 \| 10 \| 20 \(0\.62\) \| \d+ s \|", text)
    assert re.search(r"\| \S+runs/sgvla \| adapt=3,joint=7 \| 10 \| 20 \(0\.62\) \| \d+ s \|", text)
    assert "--recipe naive-all --schedule joint=10 --batch-size 2" in text
    assert "2 episodes per column on val layouts (seed offset 0), at most 2 steps each" in text
    assert len(re.findall(r"runs/\S+ \| .* s \|", text)) == 3
    assert re.search(r"Total wall time of the recorded stages: \d+ s\.", text)
    assert len(list((rep.out / "evals").glob("*/SetTable-2ep.json"))) == 3


def test_a_second_run_skips_every_stage(done, monkeypatch):
    rep, report = done
    before = _report_lines(report)

    def refuse(*args, **kwargs):
        raise AssertionError("a finished stage ran again")

    monkeypatch.setattr("hab_aux.train.trainer.train", refuse)
    monkeypatch.setattr("hab_aux.eval.policies.checkpoint_factory", refuse)
    again = reproduce(rep, Console(quiet=True), make_env=refuse)
    assert _report_lines(again) == before


def test_an_unrecorded_run_resumes_from_its_state_without_new_steps(done):
    rep, report = done
    (rep.out / "stages" / "train-sgvla.json").unlink()
    metrics = (rep.run_dir("sgvla") / "metrics.jsonl").read_text()
    reproduce(rep, Console(quiet=True), make_env=_fake_env)
    record = json.loads((rep.out / "stages" / "train-sgvla.json").read_text())
    assert record["resumed"] and record["command"].endswith("--resume")
    assert (rep.run_dir("sgvla") / "metrics.jsonl").read_text() == metrics


def test_other_options_in_the_same_folder_are_refused(done):
    rep, _ = done
    other = Reproduction(MAIN, SCALES["tiny"], rep.out, reuse_data=rep.reuse_data)
    with pytest.raises(UserError, match="holds a reproduction with other options"):
        reproduce(other, Console(quiet=True))
