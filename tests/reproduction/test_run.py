"""`habaux reproduce`: a real ablation end to end at a micro scale (synthetic data, fake env), resume, bad input."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from rich.console import Console

from hab_aux.errors import UserError
from hab_aux.eval.report import ColumnResult, write_json
from hab_aux.paper import PAPER, TABLE2_COLUMNS
from hab_aux.reproduction.ablations import ABLATIONS, SCALES, Scale, get_ablation, get_scale
from hab_aux.reproduction.plan import Reproduction
from hab_aux.reproduction.report import results_table
from hab_aux.reproduction.run import reproduce
from hab_aux.rollout import EpisodeResult
from hab_aux.policy import EpisodeInfo
from hab_aux.store import ShardWriter, build_manifest
from hab_aux.store.synthetic import synthetic_episode
from hab_aux.train.recipes import RECIPES
from tests.eval.fake_env import FakeEnv

MICRO = Scale("micro", "tiny", episodes_per_column=1, steps_per_epoch=1, batch_size=2, loader_workers=0,
              save_every=1000, eval_max_steps=2, cost="test only")  # fmt: skip
MAIN = ABLATIONS["main"]


def _dataset(path: Path, task: str, subtasks: tuple[str, ...]) -> Path:
    with ShardWriter(path, 0, task=task) as writer:
        for i, sub in enumerate(subtasks):
            category = "drawer" if sub in ("open", "close") else "bowl"
            writer.add_episode(*synthetic_episode(i + 1, steps=8, task=task, subtask=sub, category=category))
    build_manifest(path)
    return path


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
    data = _dataset(root / "SetTable", "SetTable", ("pick", "place", "open", "close"))
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


def test_reuse_data_may_split_a_task_over_several_datasets(tmp_path):
    pick_place = _dataset(tmp_path / "pp", "SetTable", ("pick", "place"))
    drawer = _dataset(tmp_path / "drawer", "SetTable", ("open", "close"))
    rep = Reproduction(MAIN, MICRO, tmp_path / "out", reuse_data=(pick_place, drawer))
    assert list(rep.datasets.values()) == [(pick_place, drawer)]
    assert rep.command().endswith(f"--reuse-data {pick_place},{drawer}")


def test_reuse_data_must_cover_every_task_with_its_subtasks_only(done, tmp_path):
    rep, _ = done
    seg = get_ablation("seg-objpose")
    pick_place = _dataset(tmp_path / "SetTable", "SetTable", ("pick", "place"))
    with pytest.raises(UserError, match="lacks a dataset of PrepareGroceries, TidyHouse"):
        Reproduction(seg, MICRO, tmp_path / "a", reuse_data=(pick_place,)).datasets
    tidy = _dataset(tmp_path / "TidyHouse", "TidyHouse", ("pick",))
    grocery = _dataset(tmp_path / "PrepareGroceries", "PrepareGroceries", ("place",))
    assert Reproduction(seg, MICRO, tmp_path / "b", reuse_data=(tidy, pick_place, grocery)).datasets
    with pytest.raises(UserError, match=r"\S+SetTable holds close, open episodes; ablation seg-objpose trains on pick, place"):
        Reproduction(seg, MICRO, tmp_path / "c", reuse_data=(tidy, rep.reuse_data[0], grocery)).datasets
    with pytest.raises(UserError, match=r"datasets of one task each, of main's tasks \(SetTable\); \S+ holds TidyHouse"):
        Reproduction(MAIN, MICRO, tmp_path / "d", reuse_data=(tidy,)).datasets
    with pytest.raises(UserError, match="is not a hab-aux dataset"):
        Reproduction(MAIN, MICRO, tmp_path / "e", reuse_data=(tmp_path,)).datasets


def test_table4_columns_span_the_three_tasks_and_only_the_average_is_published(tmp_path):
    seg = get_ablation("seg-objpose")
    rep = Reproduction(seg, MICRO, tmp_path)
    wins = {"SetTable": (1, 0), "PrepareGroceries": (1, 1), "TidyHouse": (0, 0)}  # successes of 1 episode: pick, place
    for row in seg.rows:
        for data in seg.data:
            columns = [ColumnResult(c.name, [EpisodeResult(EpisodeInfo(data.task, c.subtask, "bowl_0", "bowl", "", 0, 0),
                                                           bool(won), 1, "")])  # fmt: skip
                       for c, won in zip(data.columns, wins[data.task])]  # fmt: skip
            write_json(rep.eval_json(row, data.task), data.task, "val", {row.label: columns})
    lines = results_table(rep)
    assert lines[0] == ("| row | numbers | SetTable Pick | SetTable Place | PrepareGroceries Pick | PrepareGroceries Place | "
                        "TidyHouse Pick | TidyHouse Place | Avg |")  # fmt: skip
    assert lines[2:4] == ["| direct-il | ours | 1.00 | 0.00 | 1.00 | 1.00 | 0.00 | 0.00 | 0.50 |",
                          "| | paper (Table 4: direct IL) | — | — | — | — | — | — | 0.27 |"]  # fmt: skip
    assert lines[5] == "| | paper (Table 4: + seg + obj_pos) | — | — | — | — | — | — | 0.47 |"


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


def test_paper_numbers_match_the_reference_transcription():
    repo = Path(__file__).resolve().parents[2]
    found = [p for p in (repo / "shared", repo.parent / "shared") if (p / "reference" / "sgvla.md").exists()]
    if not found:
        pytest.skip("shared/reference/sgvla.md is not in this checkout")
    text = (found[0] / "reference" / "sgvla.md").read_text()
    table = {}
    for line in text.splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"[\d.]+", cells[1]):
            table[cells[0]] = tuple(float(c) for c in cells[1:])
    assert table == {row: tuple(numbers.values()) for row, numbers in PAPER["Table 2"].items()}
    assert "direct IL 0.27 -> + seg + obj_pos 0.47" in text


@pytest.mark.parametrize(("args", "expected"), [
    (["reproduce", "table9", "--scale", "tiny"], "unknown ablation 'table9'; valid: main, decoders, flow-head, seg-objpose"),
    (["reproduce", "main", "--scale", "huge"], "unknown scale 'huge'; valid: tiny, small, paper"),
])  # fmt: skip
def test_bad_names_are_one_line(args, expected):
    done = subprocess.run([sys.executable, "-c", "from hab_aux.cli import main; main()", *args], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [f"error: {expected}"], done.stderr
