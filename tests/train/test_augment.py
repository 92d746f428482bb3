import numpy as np
import pytest

from hab_aux.errors import UserError
from hab_aux.train.augment import random_shift, shift
from hab_aux.train.data import SampleSpec, StepSamples
from hab_aux.train.trainer import TrainConfig


def test_shift_moves_content_and_repeats_the_edge():
    a = np.arange(25).reshape(5, 5)
    moved = shift(a, 1, -2, pad=2)  # down 1, left 2
    assert moved[1, 0] == a[0, 2] and moved[4, 2] == a[3, 4]
    assert list(moved[0]) == list(moved[1])  # the uncovered top row repeats the edge
    assert list(moved[:, 4]) == list(moved[:, 3]) == list(moved[:, 2])
    assert np.array_equal(shift(a, 0, 0, pad=3), a)


def test_one_offset_moves_images_stacks_and_masks_together():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    sample = {"head_rgb": image, "head_depth": image[..., :1], "head_mask": image[..., 0] > 128,
              "stack": np.stack([image, image]), "base_pose": np.zeros(3), "hand_mask": None}  # fmt: skip
    out = random_shift(sample, ("head_rgb", "head_depth", "head_mask", "stack", "hand_mask"), 3, np.random.default_rng(5))
    assert not np.array_equal(out["head_rgb"], image)  # this seed draws a non-zero offset
    assert np.array_equal(out["head_depth"][..., 0], out["head_rgb"][..., 0])
    assert np.array_equal(out["head_mask"], out["head_rgb"][..., 0] > 128)
    assert np.array_equal(out["stack"][1], out["head_rgb"])
    assert out["base_pose"] is sample["base_pose"] and out["hand_mask"] is None
    assert out["head_rgb"].shape == image.shape and out["head_rgb"].dtype == image.dtype


def test_training_batches_are_shifted_reproducibly(dataset):
    spec = dict(obs_keys=("head_rgb",), label_keys=("base_pose",))
    plain = StepSamples([dataset], SampleSpec(**spec), batch_size=4, seed=2)
    shifted = StepSamples([dataset], SampleSpec(**spec, shift=8), batch_size=4, seed=2)
    a, b = shifted[3], shifted[3]
    assert all(np.array_equal(x["head_rgb"], y["head_rgb"]) for x, y in zip(a, b))
    originals = plain[3]
    assert any(not np.array_equal(x["head_rgb"], y["head_rgb"]) for x, y in zip(a, originals))
    assert all(np.array_equal(x["base_pose"], y["base_pose"]) for x, y in zip(a, originals))


@pytest.mark.parametrize("bad", [-1, 64])
def test_a_bad_shift_is_one_line(bad):
    with pytest.raises(UserError, match=f"--shift must be between 0 and 63 pixels, got {bad}"):
        TrainConfig(data=("d",), out="o", shift=bad)
