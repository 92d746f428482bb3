from pathlib import Path

import pytest

from hab_aux.errors import UserError
from hab_aux.generate.plan import MAX_ATTEMPTS, GenerateConfig, attempt, owed_slots, slot_of
from hab_aux.generate.run import Launch, check_output
from hab_aux.store import ShardWriter
from hab_aux.store.synthetic import synthetic_episode
from hab_aux.tasks import SPLIT_SEED_RANGES


def config(**kwargs):
    return GenerateConfig.parse("SetTable", None, **kwargs)


def test_slots_cycle_through_the_columns_and_attempts_get_distinct_homes():
    c = config()
    names = [attempt(c, j, 0).column.name for j in range(7)]
    assert names == ["Pick", "Place", "Open F", "Open D", "Close F", "Close D", "Pick"]
    attempts = [attempt(c, j, r) for j in range(50) for r in range(3)]
    assert len({a.layout_seed for a in attempts}) == len(attempts)
    assert len({a.episode_seed for a in attempts}) == len(attempts)
    start, stop = SPLIT_SEED_RANGES["train"]
    assert all(start <= a.layout_seed < stop for a in attempts)
    assert all(slot_of(a.episode_seed) == (a.slot, r) for a, r in zip(attempts, [0, 1, 2] * 50))


def test_val_layouts_are_not_train_layouts():
    train = {attempt(config(), j, 0).layout_seed for j in range(100)}
    val = {attempt(config(split="val"), j, 0).layout_seed for j in range(100)}
    lo, hi = SPLIT_SEED_RANGES["val"]
    assert not train & val and all(lo <= s < hi for s in val)


def test_subtask_filter_keeps_only_those_columns():
    c = GenerateConfig.parse("SetTable", "open,close")
    assert [col.name for col in c.columns] == ["Open F", "Open D", "Close F", "Close D"]


def test_column_keys_pick_single_columns():
    c = GenerateConfig.parse("SetTable", "place,open-drawer,close-drawer")
    assert [col.name for col in c.columns] == ["Place", "Open D", "Close D"]


def test_resume_owes_exactly_the_missing_slots():
    c = config()
    recorded = [(attempt(c, 0, 0).episode_seed, True), (attempt(c, 2, 1).episode_seed, True),
                (attempt(c, 3, 0).episode_seed, False)]  # fmt: skip
    owed, next_attempt = owed_slots(5, 0, 1, recorded, keep_failures=False)
    assert owed == [1, 3, 4]
    assert next_attempt == {1: 0, 3: 1, 4: 0}
    owed, _ = owed_slots(5, 0, 1, recorded, keep_failures=True)
    assert owed == [1, 4]


def test_shard_slices_partition_the_slots():
    slices = [owed_slots(10, i, 3, [], False)[0] for i in range(3)]
    assert sorted(sum(slices, [])) == list(range(10))


def test_a_slot_that_always_fails_stops_with_an_error():
    with pytest.raises(UserError, match="attempts failed"):
        attempt(config(), 0, MAX_ATTEMPTS)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Launch(episodes=0, out=Path("x")), "--episodes must be at least 1, got 0"),
        (lambda: Launch(episodes=5, out=Path("x"), shard_index=3, num_shards=3), "--shard-index 3 must be in 0..2"),
        (lambda: Launch(episodes=5, out=Path("x"), num_envs=4), "--num-envs 4: must be 1 with --sim-backend cpu"),
        (lambda: GenerateConfig.parse("SetTable", "pick,fly"), "unknown subtask for SetTable 'fly'"),
        (lambda: GenerateConfig.parse("TidyHouse", "open"), "unknown subtask for TidyHouse 'open'; valid: pick, place"),
        (lambda: GenerateConfig.parse("SetTable", "open-oven"), "unknown subtask for SetTable 'open-oven'; valid: pick, place, open, "
                                                                 "close, open-fridge, open-drawer, close-fridge, close-drawer"),
        (lambda: config(max_steps=500), "--max-steps must be in 1..200, got 500"),
        (lambda: config(depth_codec="png"), "unknown depth codec 'png'; valid: delta-zstd, jpegxl"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_the_depth_codec_is_part_of_the_dataset_config(tmp_path):
    """Recorded with the shard; resuming into the same folder with another depth codec is refused."""
    jpegxl = config(depth_codec="jpegxl")
    assert GenerateConfig.from_json(jpegxl.to_json()) == jpegxl and config().depth_codec == "delta-zstd"
    with ShardWriter(tmp_path, 0, task="SetTable", depth_codec="jpegxl", generation={"config": jpegxl.to_json()}) as w:
        w.add_episode(*synthetic_episode(0, steps=3))
    check_output(tmp_path, jpegxl, overwrite=False)  # the same options resume
    with pytest.raises(UserError, match=r"holds a dataset made with other options \{'depth_codec': 'jpegxl'\}; use the same options"):
        check_output(tmp_path, config(), overwrite=False)
