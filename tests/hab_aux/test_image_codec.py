"""The zarr v3 adapter around imagecodecs' codecs: exact round trips, metadata that survives
reopening, and one-line refusals of what an image codec cannot hold."""

import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.codecs import Crc32cCodec

from hab_aux.store.image_codec import ImageCodec
from hab_aux.store.synthetic import synthetic_episode

ROOT = Path(__file__).resolve().parents[2]
JPEGXL = {"id": "imagecodecs_jpegxl", "lossless": True, "effort": 2}
WEBP = {"id": "imagecodecs_webp", "lossless": True, "method": 0}


def _array(path: Path, frames: np.ndarray, codec: dict) -> zarr.Array:
    arr = zarr.create_array(
        path, shape=frames.shape, dtype=frames.dtype, chunks=(1, *frames.shape[1:]), shards=(4, *frames.shape[1:]),
        serializer=ImageCodec(codec=codec), compressors=[Crc32cCodec()],
    )  # fmt: skip
    arr[:] = frames
    return arr


@pytest.mark.parametrize("key, codec", [("head_rgb", JPEGXL), ("head_rgb", WEBP), ("hand_depth", JPEGXL)])
def test_frames_round_trip_exactly_and_the_metadata_reopens(tmp_path, key, codec):
    frames = synthetic_episode(0, steps=6)[0][key]
    _array(tmp_path / "a.zarr", frames, codec)
    reopened = zarr.open_array(tmp_path / "a.zarr", mode="r")
    assert reopened.metadata.codecs[0].codecs == (ImageCodec(codec=codec), Crc32cCodec())
    assert reopened.dtype == frames.dtype and np.array_equal(reopened[:], frames)
    assert np.array_equal(reopened[3:5], frames[3:5])


@pytest.mark.parametrize(
    "dtype, chunks, codec, message",
    [
        ("int16", 1, JPEGXL, "dtype int16 is not one of"),
        ("bool", 1, JPEGXL, "dtype bool is not one of"),
        ("uint16", 2, JPEGXL, r"chunk shape \(2, 8, 8\); one frame per chunk"),
        ("uint16", 1, {"id": "zstd", "level": 3}, "is not an imagecodecs codec"),
    ],
)
def test_what_an_image_codec_cannot_hold_is_refused(tmp_path, dtype, chunks, codec, message):
    with pytest.raises(ValueError, match=message):
        zarr.create_array(tmp_path / "a.zarr", shape=(4, 8, 8), dtype=dtype, chunks=(chunks, 8, 8),
                          serializer=ImageCodec(codec=codec))  # fmt: skip


def test_plain_zarr_finds_the_codec_through_the_entry_point():
    entry_points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["zarr.codecs"]
    (name, target), = entry_points.items()
    assert name == ImageCodec(codec=JPEGXL).to_dict()["name"]
    assert EntryPoint(name, target, "zarr.codecs").load() is ImageCodec
