"""save_pretrained -> load_pretrained (same from_pretrained path as hub weights) and the eval policy."""

import json

import numpy as np
import pytest
import torch

from hab_aux.errors import UserError
from hab_aux.policy import EpisodeInfo, Policy
from hab_aux.train.checkpoint import load_pretrained, save_pretrained
from hab_aux.train.model.build import make_processor
from hab_aux.train.policy import SGVLAPolicy
from tests.train.tiny_sgvla import build_tiny, make_sample

EPISODE = EpisodeInfo("SetTable", "pick", "bowl_1", "bowl", "pick up the bowl", 0, 3)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.set_num_threads(1)
    model = build_tiny(seed=4).eval()
    folder = save_pretrained(model, tmp_path_factory.mktemp("ckpt") / "sgvla")
    return model, folder


def test_checkpoint_layout_uses_component_save_pretrained(saved):
    _, folder = saved
    for sub in ("dinov2", "siglip", "llm", "tokenizer"):
        assert (folder / sub).is_dir()
    assert (folder / "dinov2" / "config.json").is_file() and (folder / "llm" / "config.json").is_file()
    assert (folder / "model.safetensors").is_file() and (folder / "norm_stats.json").is_file()
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["vision"]["dinov2"]["pretrained"] == "dinov2" and cfg["llm"]["tokenizer"] == "tokenizer"


def test_load_gives_identical_actions(saved):
    model, folder = saved
    loaded = load_pretrained(folder)
    assert loaded.action_token_ids.tolist() == model.action_token_ids.tolist()
    assert np.array_equal(loaded.stats.q01, model.stats.q01)
    rng = np.random.default_rng(9)
    samples = [make_sample(rng, i) for i in range(3)]
    a, b = make_processor(model)(samples, with_actions=False), make_processor(loaded)(samples, with_actions=False)
    assert torch.equal(a.input_ids, b.input_ids)
    assert torch.equal(model.predict_action_bins(a), loaded.predict_action_bins(b))
    noise = torch.randn(3, 8, 13, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.predict_flow(a, noise), loaded.predict_flow(b, noise), rtol=0, atol=1e-6)
    for k, v in model.predict_aux(a).items():  # BatchNorm running stats travel too
        torch.testing.assert_close(v, loaded.predict_aux(b)[k], rtol=0, atol=1e-6)


def test_checkpoint_without_norm_stats_fails_loudly(saved, tmp_path):
    import shutil

    _, folder = saved
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    (broken / "norm_stats.json").unlink()
    with pytest.raises(UserError, match="norm_stats.json is missing"):
        load_pretrained(broken)
    with pytest.raises(UserError, match="norm_stats.json is missing"):
        SGVLAPolicy.from_checkpoint(broken)


def test_save_and_policy_need_stats():
    model = build_tiny()
    model.stats = None
    with pytest.raises(ValueError, match="ActionStats"):
        save_pretrained(model, "/nonexistent/never-written")
    with pytest.raises(UserError, match="normalisation stats"):
        SGVLAPolicy(model)


def test_not_a_checkpoint(tmp_path):
    with pytest.raises(UserError, match="config.json is missing"):
        load_pretrained(tmp_path)


@pytest.mark.parametrize("head", ["tokens", "flow"])
def test_policy_protocol_and_flow_queue(saved, head):
    _, folder = saved
    policy = SGVLAPolicy.from_checkpoint(folder, head=head)
    assert isinstance(policy, Policy)
    plans = []
    original = policy._chunk
    policy._chunk = lambda s: plans.append(1) or original(s)
    rng = np.random.default_rng(0)
    obs = make_sample(rng)
    policy.reset(EPISODE)
    actions = [policy.select_action(obs, EPISODE.instruction) for _ in range(5)]
    for a in actions:
        assert a.shape == (13,) and a.dtype == np.float32 and np.all(np.abs(a) <= 1)
        assert a[8] == 0 and a[9] == 0  # constant dims decode to their constant value
    assert len(plans) == (5 if head == "tokens" else 3)  # flow: 8 predicted, 2 executed, re-plan
    policy.reset(EPISODE)
    assert not policy.queue
    again = [policy.select_action(obs, EPISODE.instruction) for _ in range(5)]
    np.testing.assert_array_equal(np.stack(actions), np.stack(again))  # reset reseeds the flow noise


def test_bad_head_is_a_user_error(saved):
    with pytest.raises(UserError, match="valid: tokens, flow"):
        SGVLAPolicy.from_checkpoint(saved[1], head="diffusion")


def test_policy_with_history_keeps_a_window():
    from hab_aux.train.model.configuration_sgvla import InputConfig

    model = build_tiny(inputs=InputConfig(history=2))
    policy = SGVLAPolicy(model, head="tokens")
    rng = np.random.default_rng(0)
    policy.reset(EPISODE)
    for _ in range(4):
        assert policy.select_action(make_sample(rng), "pick up the bowl").shape == (13,)
    assert len(policy.frames) == 3


@pytest.mark.hub
def test_big_preset_loads_from_hub():
    from hab_aux.train.model.build import build_meta_model, build_model, parameter_counts
    from hab_aux.train.presets import get_preset

    cfg = get_preset("sgvla-1.3b")
    model = build_model(cfg)
    real, meta = parameter_counts(model), parameter_counts(build_meta_model(cfg))
    for k in ("dinov2", "siglip", "projector", "llm"):
        assert real[k] == meta[k], k


def test_proprio_stats_travel_with_the_checkpoint_and_are_required(tmp_path):
    model = build_tiny(seed=2, proprio=True).eval()
    folder = save_pretrained(model, tmp_path / "ckpt")
    loaded = load_pretrained(folder)
    assert np.array_equal(loaded.proprio_stats.q99, model.proprio_stats.q99)
    policy = SGVLAPolicy(loaded, head="tokens")
    policy.reset(EPISODE)
    obs = make_sample(np.random.default_rng(3))
    assert policy.select_action(obs, EPISODE.instruction).shape == (13,)
    (folder / "proprio_stats.json").unlink()
    with pytest.raises(UserError, match="proprio_stats.json is missing"):
        load_pretrained(folder)
    model.proprio_stats = None
    with pytest.raises(ValueError, match="ProprioStats"):
        save_pretrained(model, tmp_path / "never")


def _chunked(**action):
    import dataclasses

    from hab_aux.train.presets import get_preset

    cfg = get_preset("tiny")
    return build_tiny(seed=5, action=dataclasses.replace(cfg.action, **action)).eval()


def test_chunked_token_head_predicts_chunks_and_executes_them_in_order():
    model = _chunked(chunk=3, execute=2)
    sample = make_sample(np.random.default_rng(4))
    batch = make_processor(model)([sample], with_actions=False)
    assert model.predict_action_bins(batch).shape == (1, 3 * 13)
    train_batch = make_processor(model)([{**sample, "action_chunk": np.zeros((3, 13), np.float32),
                                          "action_chunk_valid": np.array([True, True, False])}])  # fmt: skip
    labelled = (train_batch.labels != -100).sum().item()
    assert labelled == 2 * 13 + 1  # the invalid step is unlabelled; eos is
    policy = SGVLAPolicy(model, head="tokens")
    chunks = []
    original = policy._chunk
    policy._chunk = lambda s: chunks.append(original(s)) or chunks[-1]
    policy.reset(EPISODE)
    actions = [policy.select_action(sample, EPISODE.instruction) for _ in range(4)]
    assert len(chunks) == 2  # 2 executed per chunk of 3
    expected = [chunks[0][0], chunks[0][1], chunks[1][0], chunks[1][1]]
    for got, want in zip(actions, expected):
        np.testing.assert_allclose(got, np.clip(model.stats.unnormalize(want), -1, 1), atol=1e-6)


def test_temporal_ensembling_averages_every_prediction_for_the_step():
    from hab_aux.train.temporal_ensemble import TemporalEnsemble

    ens = TemporalEnsemble(chunk=3, decay=0.5)
    first = np.array([[0.0], [1.0], [2.0]])
    second = np.array([[10.0], [11.0], [12.0]])
    third = np.array([[20.0], [21.0], [22.0]])
    assert ens.step(first)[0] == 0.0  # one prediction for step 0
    w = np.exp(-0.5 * np.arange(3))
    assert ens.step(second)[0] == pytest.approx((w[0] * 1.0 + w[1] * 10.0) / w[:2].sum())
    assert ens.step(third)[0] == pytest.approx((w[0] * 2.0 + w[1] * 11.0 + w[2] * 20.0) / w.sum())
    model = _chunked(chunk=3, temporal_ensemble=True)
    policy = SGVLAPolicy(model, head="tokens")
    calls = []
    original = policy._chunk
    policy._chunk = lambda s: calls.append(1) or original(s)
    policy.reset(EPISODE)
    sample = make_sample(np.random.default_rng(4))
    [policy.select_action(sample, EPISODE.instruction) for _ in range(3)]
    assert len(calls) == 3  # a prediction every step


@pytest.mark.parametrize("action", [dict(chunk=2, execute=3), dict(chunk=3, execute=2, temporal_ensemble=True), dict(chunk=0)])
def test_bad_chunk_settings_are_user_errors(action):
    with pytest.raises(UserError, match="action\\."):
        _chunked(**action)


def test_published_checkpoint_is_float16_and_acts_like_the_original(saved, tmp_path):
    from hab_aux.train.publish import folder_bytes, publish

    model, folder = saved
    out = publish(folder, tmp_path / "published")
    assert folder_bytes(out) < 0.6 * folder_bytes(folder)  # float16 weights: about half the bytes
    loaded = load_pretrained(out)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())  # upcast on load
    rng = np.random.default_rng(9)
    batch = make_processor(loaded)([make_sample(rng, i) for i in range(3)], with_actions=False)
    noise = torch.randn(3, 8, 13, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.predict_flow(batch, noise), loaded.predict_flow(batch, noise), rtol=0, atol=5e-3)
    with pytest.raises(UserError, match="already exists; .* or pass --replace"):
        publish(folder, out)
    (out / "stale.txt").write_text("from the folder replaced")
    assert publish(folder, out, replace=True) == out and not (out / "stale.txt").exists()
    assert load_pretrained(out) is not None and not (tmp_path / ".published.old").exists()
    (tmp_path / "notes").mkdir()
    with pytest.raises(UserError, match="only replaces a checkpoint folder"):
        publish(folder, tmp_path / "notes", replace=True)
    with pytest.raises(UserError, match="over --max-mb 0.01"):
        publish(folder, tmp_path / "too-big", max_mb=0.01)
    assert not (tmp_path / "too-big").exists() and not (tmp_path / ".too-big.tmp").exists()
