"""Privileged experts in the simulator (CPU): valid actions, varied demonstrations, and success on
fixed val episodes (the CPU sim is deterministic, so these seeds replay exactly)."""

import numpy as np
import pytest

from hab_aux.schema import ACTION_DIM
from hab_aux.tasks import SPLIT_SEED_RANGES

pytestmark = pytest.mark.sim
VAL = SPLIT_SEED_RANGES["val"][0]


@pytest.fixture(scope="module")
def pick_env():
    from hab_aux.generate.envs import make_subtask_env

    env = make_subtask_env("SetTable", "pick")
    yield env
    env.close()


def _rollout(env, seed: int, steps: int | None = None, episode_seed: int | None = None, vary: bool = True):
    """(actions, result) of the expert on val layout `seed` (episode seed `episode_seed`, default
    the same); stops at success or after `steps`. `vary=False`: the expert-mid policy."""
    from hab_aux.rollout import run_batch
    from hab_aux.generate.experts import make_expert

    expert = make_expert(env, seed=0, vary=vary)
    actions = []
    episode = seed if episode_seed is None else episode_seed
    (result,) = run_batch(env, [expert], [seed], [episode], max_steps=steps or 200,
                          on_step=lambda k, obs, a: actions.append(a.copy()))  # fmt: skip
    return np.array(actions), result


def test_expert_is_a_policy(pick_env):
    from hab_aux.generate.experts import make_expert
    from hab_aux.policy import Policy

    expert = make_expert(pick_env, seed=0)
    assert isinstance(expert, Policy) and expert.name == "expert"


def test_pick_succeeds_with_valid_actions(pick_env):
    actions, result = _rollout(pick_env, VAL)
    assert result.success, result.failure_reason
    assert actions.shape[1] == ACTION_DIM and actions.dtype == np.float32
    assert np.all(np.abs(actions) <= 1.0)
    assert np.all(actions[:, 8:10] == 0.0), "the head must stay fixed"
    assert np.abs(actions[:, :7]).max() > 0.5, "the arm must actually move"


def test_the_first_action_already_moves(pick_env):
    """No idle start: identical first frames labelled "stay" and "go" teach a one-frame policy to
    stay at rest forever."""
    for episode in (1, 2, 3):
        actions, _ = _rollout(pick_env, VAL + 1, steps=1, episode_seed=episode)
        assert np.abs(np.delete(actions[0], 7)).max() > 0.05


def test_two_episodes_differ(pick_env):
    """Different episode seeds in one layout give different trajectories (noise in approach
    and grasp)."""
    a, _ = _rollout(pick_env, VAL + 1, steps=30, episode_seed=1)
    b, _ = _rollout(pick_env, VAL + 1, steps=30, episode_seed=2)
    assert a.shape == b.shape == (30, ACTION_DIM)
    assert not np.allclose(a, b)


def test_expert_mid_succeeds_with_every_choice_at_the_middle_of_its_range(pick_env):
    """`expert-mid`: the per-episode choices that no observation shows (grasp heading, heights,
    speed) sit at the middle of their ranges, and the expert still succeeds."""
    from hab_aux.generate.experts import make_expert
    from hab_aux.generate.experts.motion import MAX_SPEED
    from hab_aux.rollout import run_batch

    expert = make_expert(pick_env, seed=0, vary=False)
    (result,) = run_batch(pick_env, [expert], [VAL + 1], [3], max_steps=200)
    assert result.success, result.failure_reason
    assert expert.name == "expert-mid"
    assert (expert.yaw_noise, expert.z_noise, expert.above, expert.lift_by) == pytest.approx((0.0, 0.0, 0.11, 0.11))
    assert expert.speed == pytest.approx((0.085 + MAX_SPEED) / 2)


def test_draw_reads_the_generator_alike_whether_or_not_the_expert_varies():
    """Fixing the choices must not shift what the later draws read."""
    from types import SimpleNamespace

    from hab_aux.generate.experts.machine import Expert

    varied, mid = (SimpleNamespace(rng=np.random.default_rng(5), vary=v) for v in (True, False))
    assert 0.08 <= Expert.draw(varied, 0.08, 0.14) <= 0.14
    assert Expert.draw(mid, 0.08, 0.14) == pytest.approx(0.11)
    np.testing.assert_array_equal(Expert.draw(mid, -0.03, 0.03, 2), [0.0, 0.0])
    Expert.draw(varied, -0.03, 0.03, 2)
    assert varied.rng.uniform() == mid.rng.uniform()


def _articulation_rollout(subtask: str, articulation: str) -> np.ndarray:
    """The expert's actions on val layout VAL; asserts success, valid actions and a fixed head."""
    from hab_aux.generate.envs import make_subtask_env

    env = make_subtask_env("SetTable", subtask, articulation)
    try:
        actions, result = _rollout(env, VAL)
    finally:
        env.close()
    assert result.success, result.failure_reason
    assert np.all(actions[:, 8:10] == 0.0) and np.all(np.abs(actions) <= 1.0)
    return actions


def test_open_drawer_succeeds():
    actions = _articulation_rollout("open", "drawer")
    assert actions[:, 11].min() < -0.2, "the base backs out to pull the drawer"


def test_open_fridge_succeeds():
    """The handle is pulled a little way, then the base pushes the door open from its inner face
    with the arm at rest, under the collision limit."""
    actions = _articulation_rollout("open", "fridge")
    assert actions[:, 11].min() < -0.2, "the base backs out to pull the handle"
    assert actions[:, 11].max() > 0.2, "the base drives the push"


def test_close_fridge_succeeds():
    """The base sweeps the door shut with the arm at rest, under the collision limit."""
    actions = _articulation_rollout("close", "fridge")
    assert np.abs(actions[:, 11:13]).max() > 0.2, "the base drives the sweep"


def test_is_grasped_label_is_false_before_and_true_after_a_successful_pick(pick_env):
    from hab_aux.rollout import run_batch
    from hab_aux.generate.experts import make_expert

    grasped = []
    (result,) = run_batch(pick_env, [make_expert(pick_env, seed=0)], [VAL], [VAL],
                          on_step=lambda k, obs, a: grasped.append(bool(obs["is_grasped"])))  # fmt: skip
    assert result.success
    assert not any(grasped[:5])  # the gripper starts empty
    final = pick_env.unwrapped
    assert bool(final.agent.is_grasping(final.target, max_angle=30)[0])  # success = at rest, holding the target
    assert grasped[-1]  # the label says so too, on the last recorded step


def test_place_drives_up_to_a_goal_beyond_reach():
    """Val layout VAL of PrepareGroceries puts the goal ~0.79 m from the base (0.36 m to the side):
    out of the arm's reach from there, so the base turns and drives up before letting go."""
    from hab_aux.generate.envs import make_subtask_env
    from hab_aux.generate.experts.place import REACH

    env = make_subtask_env("PrepareGroceries", "place")
    try:
        env.reset([VAL], [VAL])
        u = env.unwrapped
        start = np.linalg.norm(u.goal_pos[0, :2].cpu().numpy() - u.agent.base_link.pose.p[0, :2].cpu().numpy())
        actions, result = _rollout(env, VAL)
    finally:
        env.close()
    assert start > REACH
    assert result.success, result.failure_reason
    release = np.argmax(actions[:, 7] > 0)  # the gripper opens
    assert actions[:release, 11].max() > 0.1 and np.abs(actions[:release, 12]).max() > 0.05
    # the arm sets off as the drive ends, not after a wait no camera shows (the step limit's)
    arm_starts = int(np.argmax(np.abs(actions[:, :7]).max(1) > 0.3))
    last_drive = int(np.flatnonzero(np.abs(actions[:arm_starts, 11:13]).max(1) > 0.02)[-1])
    assert arm_starts - last_drive <= 3, (last_drive, arm_starts)


def test_fridge_pregrasp_clearance_counts_the_bar_and_the_door_face():
    from hab_aux.generate.experts.fridge_open import BAR_CLEARANCE, DOOR_CLEARANCE, FridgeOpenExpert

    bar, out = np.array([1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
    clear = np.array([[1.3, 0.0, 1.0], [1.1, 0.4, 1.0], [1.02, 0.0, 1.3]])  # in front; aside; above the bar
    assert FridgeOpenExpert.intrusion(clear, bar, out) == 0.0
    assert FridgeOpenExpert.intrusion(np.array([[1.05, 0.0, 1.1]]), bar, out) == pytest.approx(BAR_CLEARANCE - 0.05)
    near_door = np.array([[1.0 - 0.062 + 0.03, 0.5, 1.0]])  # 3 cm off the door face, far from the bar
    assert FridgeOpenExpert.intrusion(near_door, bar, out) == pytest.approx(DOOR_CLEARANCE - 0.03)


def _reachable_grasp(env):
    """(Kinematics, rest qpos (15,), a horizontal-closing grasp pose the arm reaches in front of the base)."""
    import sapien

    from hab_aux.generate.envs.subtask_env import REST_QPOS
    from hab_aux.generate.experts import motion

    kin = motion.Kinematics(env.unwrapped.agent.robot)
    rest = np.concatenate([np.zeros(3), REST_QPOS]).astype(np.float64)
    tcp = kin.tcp(rest)
    grasp = motion.frame([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], tcp.p + [0.35, 0.0, 0.1])
    return kin, rest, sapien.Pose(grasp.p, grasp.q)


def test_ik_picks_the_same_branch_for_targets_a_centimetre_apart(pick_env):
    """The IK restarts are fixed, not drawn per episode: scenes a centimetre apart get arm
    motions a centimetre apart, and the same scene always the same one."""
    import sapien

    from hab_aux.generate.experts import motion

    kin, rest, grasp = _reachable_grasp(pick_env)
    a = kin.solve_near(grasp, rest)
    assert a is not None
    np.testing.assert_array_equal(a, kin.solve_near(grasp, rest))
    for shift in ([0.01, 0, 0], [0, 0.01, 0], [0, 0, -0.01]):
        b = kin.solve_near(sapien.Pose(grasp.p + shift, grasp.q), rest)
        assert np.abs(motion.body_difference(b, a)).max() < 0.2


def test_the_half_turned_grasp_wins_only_by_a_margin(pick_env, monkeypatch):
    """With a margin larger than any move, the grasp is reached as asked: its closing axis is the
    pose's, not the twin's."""
    import sapien

    from hab_aux.generate.experts import motion

    kin, rest, grasp = _reachable_grasp(pick_env)
    monkeypatch.setattr(motion, "TWIN_MARGIN", 100.0)
    for pose in (grasp, grasp * sapien.Pose(q=[0.0, 1.0, 0.0, 0.0])):
        q = rest.copy()
        q[motion.BODY_IDX] = kin.solve_near(pose, rest)
        closing = kin.tcp(q).to_transformation_matrix()[:3, 1]
        assert np.dot(closing, pose.to_transformation_matrix()[:3, 1]) > 0.99
