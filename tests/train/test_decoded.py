"""Decoded step files (train/decoded.py): the same samples as the stores, written once, refused when the disk is short."""

import shutil

import numpy as np
import pytest

from hab_aux.errors import UserError
from hab_aux.train.data import SampleSpec, StepSamples

SPEC = SampleSpec(obs_keys=("head_rgb", "head_depth"), label_keys=("base_pose", "target_pose"), chunk=4, shift=2)


def test_decoded_batches_equal_the_stores_batches(dataset, tmp_path):
    stored = StepSamples([dataset], SPEC, batch_size=5, seed=1)
    decoded = StepSamples([dataset], SPEC, batch_size=5, seed=1, decoded=tmp_path)
    for b in (0, 3):
        for a, d in zip(stored[b], decoded[b]):
            assert a.keys() == d.keys()
            for k in a:
                assert (a[k] is None and d[k] is None) or np.array_equal(a[k], d[k]), k
    files = sorted(p.name for p in next((tmp_path / "decoded").iterdir()).glob("*.npy"))
    assert files == ["action.npy", "base_pose.npy", "head_depth.npy", "head_rgb.npy", "target_pose.npy"]


def test_the_files_are_written_once_and_a_new_key_is_added(dataset, tmp_path):
    StepSamples([dataset], SPEC, batch_size=2, decoded=tmp_path)
    folder = next((tmp_path / "decoded").iterdir())
    written = (folder / "head_rgb.npy").stat().st_mtime_ns
    more = SampleSpec(obs_keys=("head_rgb", "hand_rgb"), label_keys=())
    StepSamples([dataset], more, batch_size=2, decoded=tmp_path)[0]
    assert (folder / "head_rgb.npy").stat().st_mtime_ns == written
    assert (folder / "hand_rgb.npy").exists()
    assert not list(folder.glob(".*.npy"))  # no partial file left


def test_a_disk_too_small_is_one_line_and_writes_nothing(dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1 << 40, 1 << 40, 1 << 20))
    with pytest.raises(UserError, match=r"--decoded-cache needs .* GiB .* free"):
        StepSamples([dataset], SPEC, batch_size=2, decoded=tmp_path)
    assert not list((tmp_path / "decoded").rglob("*.npy"))
