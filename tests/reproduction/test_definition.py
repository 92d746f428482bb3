"""What a reproduction is: which datasets it reuses, and its command."""

import pytest

from hab_aux.errors import UserError
from hab_aux.reproduction.ablations import get_ablation
from hab_aux.reproduction.definition import Reproduction
from tests.reproduction.micro import MAIN, MICRO, dataset


def test_reuse_data_may_split_a_task_over_several_datasets(tmp_path):
    pick_place = dataset(tmp_path / "pp", "SetTable", ("pick", "place"))
    drawer = dataset(tmp_path / "drawer", "SetTable", ("open", "close"))
    rep = Reproduction(MAIN, MICRO, tmp_path / "out", reuse_data=(pick_place, drawer))
    assert list(rep.datasets.values()) == [(pick_place, drawer)]
    assert rep.command().endswith(f"--reuse-data {pick_place},{drawer}")


def test_reuse_data_must_cover_every_task_with_its_subtasks_only(tmp_path):
    seg = get_ablation("seg-objpose")
    pick_place = dataset(tmp_path / "SetTable", "SetTable", ("pick", "place"))
    every_subtask = dataset(tmp_path / "all" / "SetTable", "SetTable", ("pick", "place", "open", "close"))
    with pytest.raises(UserError, match="lacks a dataset of PrepareGroceries, TidyHouse"):
        Reproduction(seg, MICRO, tmp_path / "a", reuse_data=(pick_place,)).datasets
    tidy = dataset(tmp_path / "TidyHouse", "TidyHouse", ("pick",))
    grocery = dataset(tmp_path / "PrepareGroceries", "PrepareGroceries", ("place",))
    assert Reproduction(seg, MICRO, tmp_path / "b", reuse_data=(tidy, pick_place, grocery)).datasets
    with pytest.raises(UserError, match=r"\S+SetTable holds close, open episodes; ablation seg-objpose trains on pick, place"):
        Reproduction(seg, MICRO, tmp_path / "c", reuse_data=(tidy, every_subtask, grocery)).datasets
    with pytest.raises(UserError, match=r"datasets of one task each, of main's tasks \(SetTable\); \S+ holds TidyHouse"):
        Reproduction(MAIN, MICRO, tmp_path / "d", reuse_data=(tidy,)).datasets
    with pytest.raises(UserError, match="is not a hab-aux dataset"):
        Reproduction(MAIN, MICRO, tmp_path / "e", reuse_data=(tmp_path,)).datasets
