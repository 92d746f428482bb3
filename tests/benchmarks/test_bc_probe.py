"""The behaviour-cloning probe's policy: the images it reads, the chunk it executes in order (or
ensembles), and where its rollouts leave the expert."""

import argparse

import numpy as np
import pytest
import torch

from hab_aux.schema import ACTION_DIM, IMAGE_SIZE, QPOS_DIM


def observation(rng):
    s = IMAGE_SIZE
    return {"head_rgb": rng.integers(0, 255, (s, s, 3), dtype=np.uint8), "hand_rgb": rng.integers(0, 255, (s, s, 3), dtype=np.uint8),
            "head_depth": rng.integers(0, 5000, (s, s, 1), dtype=np.uint16), "hand_depth": rng.integers(0, 5000, (s, s, 1), dtype=np.uint16),
            "qpos": rng.normal(size=QPOS_DIM).astype(np.float32)}  # fmt: skip


def test_images_become_eight_channels_at_64_px(load_benchmark):
    probe, rng = load_benchmark("bc_probe"), np.random.default_rng(0)
    steps = {k: v[None] for k, v in observation(rng).items()}
    x = probe.image_input(steps)
    assert x.shape == (1, 8, probe.RES, probe.RES)
    assert float(x[:, :6].max()) <= 1.0 and float(x[:, 6:].max()) <= 2.0


def probe_policy(probe, execute):
    torch.manual_seed(0)
    net = probe.ProbeNet(columns=6).eval()
    stats = {"action": probe.ActionStats(-np.ones(ACTION_DIM), np.ones(ACTION_DIM)),
             "qpos": probe.ProprioStats(-np.ones(12), np.ones(12))}  # fmt: skip
    return probe.ProbePolicy(net, stats, column=2, proprio=True, execute=execute)


def net_chunk(probe, policy, obs) -> np.ndarray:
    steps = {k: np.asarray(obs[k])[None] for k in probe.IMAGES}
    q = policy.stats["qpos"].normalize(obs["qpos"][3:])
    with torch.no_grad():
        return policy.net(probe.image_input(steps), torch.from_numpy(q)[None], torch.tensor([2]))[0].numpy()


def test_policy_executes_the_first_actions_of_each_chunk_in_order(load_benchmark):
    probe, rng = load_benchmark("bc_probe"), np.random.default_rng(0)
    policy, obs = probe_policy(probe, execute=2), observation(rng)
    first, second, third = (policy.select_action(obs, "") for _ in range(3))
    chunk = net_chunk(probe, policy, obs)
    np.testing.assert_allclose(first, np.clip(chunk[0], -1, 1), atol=1e-6)
    np.testing.assert_allclose(second, np.clip(chunk[1], -1, 1), atol=1e-6)
    np.testing.assert_allclose(third, np.clip(chunk[0], -1, 1), atol=1e-6)  # re-planned from the same observation
    assert first.dtype == np.float32 and first.shape == (ACTION_DIM,)


def test_ensembling_policy_averages_each_steps_predictions(load_benchmark):
    probe, rng = load_benchmark("bc_probe"), np.random.default_rng(0)
    policy, obs = probe_policy(probe, execute=probe.ENSEMBLE), observation(rng)
    first, second = (policy.select_action(obs, "") for _ in range(2))
    chunk = net_chunk(probe, policy, obs)
    w = np.exp(-probe.ENSEMBLE_DECAY)  # the second step: chunk[1] of the first prediction (weight 1), chunk[0] of the second
    np.testing.assert_allclose(first, np.clip(chunk[0], -1, 1), atol=1e-6)
    np.testing.assert_allclose(second, np.clip((chunk[1] + w * chunk[0]) / (1 + w), -1, 1), atol=1e-6)


def test_execute_values_are_counts_up_to_the_chunk_or_ensemble(load_benchmark):
    probe = load_benchmark("bc_probe")
    assert probe.executions("2,8,ensemble") == [2, 8, "ensemble"]
    for bad in ("0", "9", "mean"):
        with pytest.raises(argparse.ArgumentTypeError, match=bad):
            probe.executions(bad)


def test_departure_is_the_first_step_off_the_recorded_path_and_lag_is_not_leaving(load_benchmark, tmp_path):
    from hab_aux.store import ShardWriter
    from hab_aux.store.synthetic import synthetic_episode

    probe = load_benchmark("bc_probe")
    steps, meta = synthetic_episode(0, steps=10)
    ShardWriter(tmp_path / "ds", task="SetTable").add_episode(steps, meta)
    recorded = steps["qpos"]
    lagging = np.concatenate([recorded[:1].repeat(4, 0), recorded])  # the same path, 4 steps late
    leaving = recorded.copy()
    leaving[6:, probe.BODY_IDX[2]] += 0.5
    for trace, expected in ((lagging, None), (leaving, 6)):
        traces = {(meta["layout_seed"], meta["episode_seed"]): list(trace[:, probe.BODY_IDX])}
        trace_key = probe.column_key(meta["subtask"], meta["target_category"])
        assert probe.departures(traces, str(tmp_path / "ds")) == {trace_key: [(expected, 10)]}


def test_open_loop_fit_is_by_phase_and_column_on_the_first_episodes_of_each_column(load_benchmark):
    probe = load_benchmark("bc_probe")
    lengths, episode_columns = [60, 60, 60, 60], [0, 1, 0, 1]  # two per column; episodes=1 keeps the first of each
    ends = np.concatenate([[0], np.cumsum(lengths)])
    columns = np.repeat(episode_columns, lengths)
    target = torch.zeros(ends[-1], ACTION_DIM)
    for e in range(4):
        target[ends[e]: ends[e] + 10] = 1.0 + e  # the first 10 steps of each episode: 1, 2, 3, 4

    def net(images, qpos, column):
        return torch.zeros(len(images), probe.CHUNK, ACTION_DIM)

    stats = {"action": probe.ActionStats(-np.ones(ACTION_DIM), np.ones(ACTION_DIM)), "qpos": probe.ProprioStats(-np.ones(12), np.ones(12))}
    samples = probe.Samples(torch.zeros(ends[-1], 1), np.zeros((ends[-1], 12), np.float32), np.zeros((ends[-1], ACTION_DIM), np.float32),
                            columns, ends, stats, True)  # fmt: skip
    samples.target = target
    text = probe.open_loop_fit(net, samples, episodes=1, keys=["pick", "place"])
    # episodes 0 and 1 only: (1 + 2) / 2 over their first 10 steps; by column 1 and 2 over 10 of 60 steps
    assert text == "steps 0-9 1.500, steps 10-49 0.000, steps 50-end 0.000; by column: pick 0.167, place 0.333"


class _Recorder:
    def __init__(self, action):
        self.action, self.resets, self.seen = action, [], []

    def reset(self, episode):
        self.resets.append(episode)

    def select_action(self, observation, instruction):
        self.seen.append(observation)
        return self.action


def test_dagger_executes_the_learners_action_and_keeps_the_experts_label(load_benchmark):
    dagger = load_benchmark("probe_dagger")
    learner, expert, episodes = _Recorder(np.full(ACTION_DIM, 0.5, np.float32)), _Recorder(np.full(ACTION_DIM, 3.0)), []
    policy = dagger.Labelled(learner, expert, "pick", keep=lambda obs: obs["i"], episodes=episodes)
    for episode in ("first", "second"):
        policy.reset(episode)
        executed = [policy.select_action({"i": i}, "") for i in range(3 if episode == "first" else 2)]
    assert learner.resets == expert.resets == ["first", "second"]
    assert len(learner.seen) == len(expert.seen) == 5  # both see every observation
    np.testing.assert_array_equal(executed[-1], learner.action)
    assert [(column, [i for i, _ in steps]) for column, steps in episodes] == [("pick", [0, 1, 2]), ("pick", [0, 1])]
    label = episodes[0][1][0][1]
    assert label.dtype == np.float32 and np.all(label == 1.0)  # the expert's action, clipped as run_batch clips


def test_dagger_rounds_roll_out_on_layouts_no_generated_dataset_records(load_benchmark):
    from hab_aux.generate.plan import GenerateConfig, attempt

    dagger = load_benchmark("probe_dagger")
    rounds = [set(range(dagger.round_layouts(r, 10), dagger.round_layouts(r, 10) + 10)) for r in range(5)]
    assert all(not a & b for i, a in enumerate(rounds) for b in rounds[i + 1:])  # a new set of layouts each round
    config = GenerateConfig.parse("SetTable", None)  # seed 0: how the probe's datasets were generated
    recorded = {attempt(config, slot, r).layout_seed for slot in range(1000) for r in range(8)}
    assert not recorded & set().union(*rounds)


def test_added_episodes_keep_their_images_and_end_their_own_chunks(load_benchmark):
    probe = load_benchmark("bc_probe")
    stats = {"action": probe.ActionStats(-np.ones(ACTION_DIM), np.ones(ACTION_DIM)), "qpos": probe.ProprioStats(-np.ones(12), np.ones(12))}

    def samples(value, n):
        return probe.Samples(torch.full((n, 8, probe.RES, probe.RES), value), np.zeros((n, 12), np.float32),
                             np.full((n, ACTION_DIM), value, np.float32), np.zeros(n, int), np.array([0, n]), stats, True)  # fmt: skip

    demos = samples(0.5, 3)
    demos.extend(samples(-0.5, 4))
    np.testing.assert_array_equal(demos.ends, [0, 3, 7])
    assert demos.state.shape[0] == demos.column.shape[0] == demos.target.shape[0] == 7
    images = demos.images(np.array([6, 0, 3, 2]))  # each step's image from its own part, in the order asked
    assert images[:, 0, 0, 0].tolist() == [-0.5, 0.5, -0.5, 0.5]
    chunks = probe.chunk_steps(demos.ends)
    np.testing.assert_array_equal(chunks[2], [2] * probe.CHUNK)  # the first episode's last step
    np.testing.assert_array_equal(chunks[3], [3, 4, 5, 6, 6, 6, 6, 6])  # the added episode's chunks stay in it


def test_load_keeps_only_the_chosen_columns_episodes(load_benchmark, tmp_path):
    from hab_aux.store import ShardWriter
    from hab_aux.store.synthetic import synthetic_episode

    probe = load_benchmark("bc_probe")
    writer = ShardWriter(tmp_path / "ds", task="SetTable")
    for seed, subtask, n in ((1, "pick", 6), (2, "place", 5), (3, "pick", 4)):
        steps, meta = synthetic_episode(seed, steps=n, subtask=subtask)
        writer.add_episode(steps, meta)
    keys = ["pick", "place"]
    images, qpos, actions, columns, ends = probe.load([str(tmp_path / "ds")], keys, chosen=["pick"])
    np.testing.assert_array_equal(ends, [0, 6, 10])  # the two pick episodes, the place one left out
    assert images.shape[0] == len(qpos) == len(actions) == 10 and set(columns) == {0}
    everything = probe.load([str(tmp_path / "ds")], keys, chosen=keys)
    np.testing.assert_array_equal(everything[4], [0, 6, 11, 15])
    torch.testing.assert_close(images[6:], everything[0][11:])  # the second pick episode's own images
    with pytest.raises(probe.UserError, match="hold no episodes of open-drawer"):
        probe.load([str(tmp_path / "ds")], [*keys, "open-drawer"], chosen=["open-drawer"])


def test_flow_head_integrates_its_velocity_from_noise_to_the_chunk(load_benchmark):
    """With the exact velocity of a single target chunk a, (x - a) / t, ten Euler steps from t = 1
    end on a: the sampler runs from noise to data in FLOW.steps steps."""
    probe = load_benchmark("bc_probe")
    net, a = probe.ProbeNet(columns=6, head="flow"), torch.rand(3, probe.CHUNK, ACTION_DIM)
    net.velocity = lambda h, x, t: (x - a) / t[:, None, None]
    x = torch.rand(3, 8, probe.RES, probe.RES)
    assert torch.allclose(net(x, torch.zeros(3, 12), torch.tensor([0, 1, 2])), a, atol=1e-5)


@pytest.mark.parametrize("head", ["l1", "flow", "tokens"])
def test_each_head_fits_a_fixed_batch(load_benchmark, head):
    probe = load_benchmark("bc_probe")
    torch.manual_seed(0)
    net = probe.ProbeNet(columns=6, head=head)
    x, q, c = torch.rand(4, 8, probe.RES, probe.RES), torch.zeros(4, 12), torch.tensor([0, 1, 2, 3])
    target = torch.rand(4, probe.CHUNK, ACTION_DIM) * 2 - 1
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    losses = []
    for _ in range(100):
        loss = net.loss(x, q, c, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.8 * np.mean(losses[:10])


def test_token_head_predicts_the_centre_of_its_most_likely_bin(load_benchmark):
    probe = load_benchmark("bc_probe")
    net = probe.ProbeNet(columns=6, head="tokens")
    logits = torch.zeros(1, probe.CHUNK, ACTION_DIM, probe.BINS.n_bins)
    logits[..., 7] = 1.0
    net.features = lambda images, qpos, column: logits.flatten(1)
    chunk = net(torch.rand(1, 8, probe.RES, probe.RES), torch.zeros(1, 12), torch.tensor([0]))
    assert torch.allclose(chunk, torch.full((1, probe.CHUNK, ACTION_DIM), float(probe.BINS.centres[7])))


def test_flow_repeats_draw_that_many_noisy_chunks_per_sample(load_benchmark):
    import dataclasses

    probe = load_benchmark("bc_probe")
    net = probe.ProbeNet(columns=6, head="flow", flow=dataclasses.replace(probe.FLOW, noise_repeats=4))
    seen = []
    net.velocity = lambda h, x_t, t: seen.append((h, x_t, t)) or torch.zeros_like(x_t)
    target = torch.rand(3, probe.CHUNK, ACTION_DIM)
    net.loss(torch.rand(3, 8, probe.RES, probe.RES), torch.zeros(3, 12), torch.tensor([0, 1, 2]), target)
    h, x_t, t = seen[0]
    assert x_t.shape == (12, probe.CHUNK, ACTION_DIM) and len(set(t.tolist())) == 12
    assert torch.equal(h[0], h[3]) and not torch.equal(h[3], h[4])  # sample-major: 4 draws of sample 0, then sample 1
