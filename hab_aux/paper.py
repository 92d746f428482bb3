"""SG-VLA's published success rates (arXiv 2603.22760), as data: the one place its row labels are written.

Copied from the paper's Table 2 (SetTable, 30 episodes per column) and Table 4 (the average of
pick and place over SetTable, PrepareGroceries and TidyHouse); tests/reproduction/test_run.py
checks them against the project's transcription in shared/reference/sgvla.md where that file is
present. Training recipes name the row they reproduce and `habaux reproduce` prints each row's
numbers beside ours, both through the `PaperRow` constants below.
"""

from typing import NamedTuple


class PaperRow(NamedTuple):
    """One published row: its table and its label there."""

    table: str
    row: str

    def numbers(self) -> dict[str, float]:
        """{column name or "Avg": success rate}."""
        return PAPER[self.table][self.row]


TABLE2, TABLE4 = "Table 2", "Table 4"
DIRECT_IL = PaperRow(TABLE2, "base VLM + multiview + depth (direct IL)")
NAIVE_ALL = PaperRow(TABLE2, "+ all aux, naive")
GRASP = PaperRow(TABLE2, "+ is_grasped, progressive")
QPOS = PaperRow(TABLE2, "+ qpos, progressive")
GLOBAL_POS = PaperRow(TABLE2, "+ global pos, progressive")
SGVLA = PaperRow(TABLE2, "SG-VLA: + all, progressive")
SGVLA_FLOW = PaperRow(TABLE2, "SG-VLA + flow-matching head")
TABLE4_DIRECT_IL = PaperRow(TABLE4, "direct IL")
TABLE4_SEG_OBJPOS = PaperRow(TABLE4, "+ seg + obj_pos")

TABLE2_COLUMNS = ("Pick", "Place", "Open F", "Open D", "Close F", "Close D", "Avg")
_TABLE2_ROWS = {
    "OpenVLA 7B, head RGB": (0.00, 0.19, 0.02, 0.00, 0.00, 0.04, 0.04),
    "OpenVLA + multiview + depth": (0.12, 0.41, 0.43, 0.30, 0.00, 0.67, 0.32),
    "base VLM + multiview": (0.06, 0.53, 0.60, 0.30, 0.63, 0.93, 0.52),
    DIRECT_IL.row: (0.16, 0.56, 0.67, 0.36, 0.83, 1.00, 0.60),
    "+ history": (0.00, 0.47, 0.57, 0.40, 0.47, 1.00, 0.49),
    NAIVE_ALL.row: (0.03, 0.50, 0.60, 0.23, 0.67, 1.00, 0.51),
    GRASP.row: (0.30, 0.53, 0.83, 0.57, 0.80, 0.93, 0.66),
    QPOS.row: (0.23, 0.67, 0.87, 0.70, 0.90, 0.90, 0.71),
    GLOBAL_POS.row: (0.07, 0.27, 0.90, 0.70, 0.97, 1.00, 0.65),
    SGVLA.row: (0.13, 0.70, 0.87, 0.77, 0.90, 1.00, 0.73),
    SGVLA_FLOW.row: (0.27, 0.80, 0.76, 0.60, 0.76, 0.97, 0.69),
}

PAPER: dict[str, dict[str, dict[str, float]]] = {
    TABLE2: {row: dict(zip(TABLE2_COLUMNS, values)) for row, values in _TABLE2_ROWS.items()},
    TABLE4: {TABLE4_DIRECT_IL.row: {"Avg": 0.27}, TABLE4_SEG_OBJPOS.row: {"Avg": 0.47}},
}
