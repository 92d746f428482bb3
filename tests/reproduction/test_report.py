"""The report's results table, from eval JSONs written by hand."""

from hab_aux.eval.report import ColumnResult, write_json
from hab_aux.policy import EpisodeInfo
from hab_aux.reproduction.ablations import get_ablation
from hab_aux.reproduction.definition import Reproduction
from hab_aux.reproduction.report import results_table
from hab_aux.rollout import EpisodeResult
from tests.reproduction.micro import MICRO


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
