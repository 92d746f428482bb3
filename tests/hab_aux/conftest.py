"""Synthetic datasets, schema-exact, built from hab_aux.store.synthetic."""

from pathlib import Path

import pytest

from hab_aux.store import ShardWriter
from hab_aux.store.synthetic import synthetic_episode

# Lengths chosen so episodes straddle shard-file boundaries (SHARD_STEPS = 200) and inner chunks.
LENGTHS = (73, 130, 41, 96, 55)


@pytest.fixture(scope="session")
def episodes():
    """Five episodes of varied lengths, tasks and categories: [(steps, meta)]."""
    specs = [("SetTable", "pick", "bowl"), ("SetTable", "open", "fridge"), ("TidyHouse", "place", "mug"),
             ("TidyHouse", "pick", "can"), ("SetTable", "pick", "apple")]  # fmt: skip
    return [synthetic_episode(seed, n, *spec) for seed, (n, spec) in enumerate(zip(LENGTHS, specs))]


def write_dataset(root: Path, episodes, shards: int = 1, task: str = "SetTable", **writer_options) -> Path:
    """Spread `episodes` round-robin over `shards` shard stores of one dataset folder."""
    generation = [{"command": f"habaux generate --shard {k}"} for k in range(shards)]
    writers = [ShardWriter(root, k, task=task, generation=generation[k], **writer_options) for k in range(shards)]
    for i, (steps, meta) in enumerate(episodes):
        writers[i % shards].add_episode(steps, meta)
    return root


@pytest.fixture(scope="session")
def dataset(tmp_path_factory, episodes) -> Path:
    """One dataset folder with all five episodes in one shard; tests must not modify it."""
    return write_dataset(tmp_path_factory.mktemp("ds") / "one", episodes)


@pytest.fixture(scope="session")
def jpegxl_dataset(tmp_path_factory, episodes) -> Path:
    """The first three episodes with depth stored by JPEG-XL (`--depth-codec jpegxl`); read-only."""
    return write_dataset(tmp_path_factory.mktemp("ds") / "jpegxl", episodes[:3], depth_codec="jpegxl")
