"""SG-VLA's published success rates (arXiv 2603.22760), as data for `habaux reproduce` to print beside ours.

Copied from the paper's Table 2 (SetTable, 30 episodes per column) and Table 4 (the average of
pick and place over SetTable, PrepareGroceries and TidyHouse); tests/eval/test_reproduce.py checks
them against the project's transcription in shared/reference/sgvla.md where that file is present.
"""

TABLE2_COLUMNS = ("Pick", "Place", "Open F", "Open D", "Close F", "Close D", "Avg")
_TABLE2_ROWS = {
    "OpenVLA 7B, head RGB": (0.00, 0.19, 0.02, 0.00, 0.00, 0.04, 0.04),
    "OpenVLA + multiview + depth": (0.12, 0.41, 0.43, 0.30, 0.00, 0.67, 0.32),
    "base VLM + multiview": (0.06, 0.53, 0.60, 0.30, 0.63, 0.93, 0.52),
    "base VLM + multiview + depth (direct IL)": (0.16, 0.56, 0.67, 0.36, 0.83, 1.00, 0.60),
    "+ history": (0.00, 0.47, 0.57, 0.40, 0.47, 1.00, 0.49),
    "+ all aux, naive": (0.03, 0.50, 0.60, 0.23, 0.67, 1.00, 0.51),
    "+ is_grasped, progressive": (0.30, 0.53, 0.83, 0.57, 0.80, 0.93, 0.66),
    "+ qpos, progressive": (0.23, 0.67, 0.87, 0.70, 0.90, 0.90, 0.71),
    "+ global pos, progressive": (0.07, 0.27, 0.90, 0.70, 0.97, 1.00, 0.65),
    "SG-VLA: + all, progressive": (0.13, 0.70, 0.87, 0.77, 0.90, 1.00, 0.73),
    "SG-VLA + flow-matching head": (0.27, 0.80, 0.76, 0.60, 0.76, 0.97, 0.69),
}

PAPER: dict[str, dict[str, dict[str, float]]] = {
    "Table 2": {row: dict(zip(TABLE2_COLUMNS, values)) for row, values in _TABLE2_ROWS.items()},
    "Table 4": {"direct IL": {"Avg": 0.27}, "+ seg + obj_pos": {"Avg": 0.47}},
}


def paper_numbers(table: str, row: str) -> dict[str, float]:
    """{column name or "Avg": success rate} of one published row."""
    return PAPER[table][row]
