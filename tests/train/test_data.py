import pickle

import numpy as np
import pytest

from hab_aux.errors import UserError
from hab_aux.train.data import SampleSpec, StepSamples, quantiles
from hab_aux.train.labels import ALL_LABELS
from hab_aux.train.trainer import TrainConfig

def spec(**kwargs):
    return SampleSpec(obs_keys=("head_rgb",), label_keys=("base_pose", "target_pose"), **kwargs)


def test_labels_follow_the_paper_allocation(dataset):
    samples = StepSamples([dataset], spec(), batch_size=4).samples(np.array([0, 12, 21]))
    # SetTable open: base pose yes, object pose no; TidyHouse pick: the reverse; SetTable pick: both
    assert [s["base_pose"] is not None for s in samples] == [True, False, True]
    assert [s["target_pose"] is not None for s in samples] == [False, True, True]
    assert samples[1]["instruction"].startswith("pick the bowl")


def test_history_and_chunks_stay_inside_the_episode(dataset):
    data = StepSamples([dataset], spec(history=2, chunk=4), batch_size=2)
    first, last = data.samples(np.array([12, 20]))  # first and last step of episode 1 (12..20)
    assert first["head_rgb"].shape == (3, 128, 128, 3)
    read = data._data.steps(np.array([12, 19, 20]), ("head_rgb",))["head_rgb"]
    assert np.array_equal(first["head_rgb"][0], read[0]) and np.array_equal(first["head_rgb"][2], read[0])
    assert np.array_equal(last["head_rgb"][1], read[1])
    assert list(first["action_chunk"][:, 0]) == [100, 101, 102, 103] and first["action_chunk_valid"].all()
    assert list(last["action_chunk_valid"]) == [True, False, False, False]
    assert list(last["action_chunk"][:, 0]) == [108] * 4


def test_batches_are_a_seeded_permutation_per_epoch(dataset):
    data = StepSamples([dataset], spec(), batch_size=7, seed=3)
    per_epoch = data.batches_per_epoch()
    epoch0 = np.concatenate([data.batch_indices(b) for b in range(per_epoch)])
    assert len(set(epoch0.tolist())) == per_epoch * 7
    again = pickle.loads(pickle.dumps(data))  # what a DataLoader worker receives
    assert np.array_equal(again.batch_indices(per_epoch + 1), data.batch_indices(per_epoch + 1))
    assert not np.array_equal(data.batch_indices(0), data.batch_indices(per_epoch))
    assert len(again[0]) == 7


def test_a_label_no_episode_provides_is_refused(dataset):
    with pytest.raises(UserError, match="provides the label"):
        StepSamples([dataset], SampleSpec(obs_keys=(), label_keys=("hand_seg",)), batch_size=2)


def test_quantiles_are_cached(dataset, tmp_path):
    q01, q99 = quantiles([dataset], "action", tmp_path)
    assert q01.shape == (13,) and q99[0] > q01[0]
    assert len(list(tmp_path.iterdir())) == 1
    assert np.array_equal(quantiles([dataset], "action", tmp_path)[1], q99)


def test_subtask_filter_and_empty_data(dataset):
    data = StepSamples([dataset], spec(subtasks=("pick",)), batch_size=4)
    assert data.num_steps == 9 + 7
    picked = np.concatenate([data.batch_indices(b) for b in range(data.batches_per_epoch())])
    assert picked.min() >= 12
    with pytest.raises(UserError, match="holds 0 steps of subtasks close"):
        StepSamples([dataset], spec(subtasks=("close",)), batch_size=4)


def test_a_packed_batch_crosses_to_the_main_process_as_one_buffer():
    import torch

    from hab_aux.train.model.build import make_processor
    from hab_aux.train.packed import PackedBatch
    from tests.train.tiny_sgvla import build_tiny, make_sample

    rng = np.random.default_rng(0)
    samples = [make_sample(rng, i) for i in range(3)]
    samples[1]["is_grasped"] = None
    batch = make_processor(build_tiny())(samples)
    loader = torch.utils.data.DataLoader([samples], batch_size=None, num_workers=1,
                                         collate_fn=lambda s: PackedBatch.pack(make_processor(build_tiny())(s)))  # fmt: skip
    packed = next(iter(loader))
    assert isinstance(packed.buffer, torch.Tensor) and packed.buffer.dtype == torch.uint8
    got = packed.unpack(torch.device("cpu"))
    for name in ("images", "input_ids", "attention_mask", "prefix_mask", "labels", "action_chunk", "action_chunk_valid"):
        a, b = getattr(batch, name), getattr(got, name)
        assert a.dtype == b.dtype and torch.equal(a, b), name
    assert batch.targets.keys() == got.targets.keys() == got.target_valid.keys()
    for k in batch.targets:
        assert torch.equal(batch.targets[k], got.targets[k]) and torch.equal(batch.target_valid[k], got.target_valid[k])
    assert got.target_valid["grasp"].tolist() == [True, False, True]


def test_all_labels_allocation_gives_every_episode_its_labels(dataset):
    samples = StepSamples([dataset], spec(allocation=ALL_LABELS), batch_size=4).samples(np.array([0, 12, 21]))
    assert all(s["base_pose"] is not None and s["target_pose"] is not None for s in samples)


def test_unknown_label_allocation_is_a_one_line_error(tmp_path):
    with pytest.raises(UserError, match="--labels 'most'; valid: paper, all"):
        TrainConfig(data=("d",), out=str(tmp_path), labels="most")
