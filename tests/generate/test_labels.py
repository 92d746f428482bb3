"""The recorded labels are right: checked against the simulator's geometry, not against themselves.

Target-mask pixels, lifted to 3-D with the camera's intrinsics, extrinsics and the recorded depth,
land on the target object; depth agrees with the distance to the target; base pose and qpos are
the robot's; target and TCP poses are relative to the base as the schema says.
"""

import numpy as np
import pytest

from hab_aux.generate.world.objects import SPECS
from hab_aux.tasks import SPLIT_SEED_RANGES

pytestmark = pytest.mark.sim
SEEDS = [SPLIT_SEED_RANGES["val"][0] + i for i in (3, 17, 42)]
CAMERA = {"head": "fetch_head", "hand": "fetch_hand"}


@pytest.fixture(scope="module")
def pick_env():
    from hab_aux.generate.envs import make_subtask_env

    env = make_subtask_env("TidyHouse", "pick")
    yield env
    env.close()


def _np(x):
    return x.cpu().numpy() if hasattr(x, "cpu") else np.asarray(x)


def _lift(env, cam: str, obs: dict, pixels: np.ndarray) -> np.ndarray:
    """World points of the chosen pixels (a boolean image): (N, 3)."""
    params = {k: _np(v)[0] for k, v in env.unwrapped.scene.sensors[CAMERA[cam]].get_params().items()}
    v, u = np.nonzero(pixels)
    z = obs[f"{cam}_depth"][0, v, u, 0].astype(np.float64) / 1000.0
    k = params["intrinsic_cv"]
    cam_points = np.stack([(u + 0.5 - k[0, 2]) * z / k[0, 0], (v + 0.5 - k[1, 2]) * z / k[1, 1], z], axis=1)
    rotation, translation = params["extrinsic_cv"][:, :3], params["extrinsic_cv"][:, 3]
    return (cam_points - translation) @ rotation  # world = R^T (x_cam - t)


def _quat_to_matrix(q):
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])  # fmt: skip


@pytest.mark.parametrize("seed", SEEDS)
def test_mask_pixels_back_project_onto_the_target(pick_env, seed):
    obs, [info] = pick_env.reset([seed], [seed])
    target = _np(pick_env.unwrapped.target.pose.p)[0]  # the object's origin: the centre of its base
    spec = SPECS[info.target_category]
    reach = np.hypot(spec.height, max(spec.radius, 0.06)) + 0.01  # farthest surface point from the origin
    seen = 0
    for cam in CAMERA:
        if obs[f"{cam}_mask"][0].sum() < 5:
            continue
        seen += 1
        points = _lift(pick_env, cam, obs, obs[f"{cam}_mask"][0])
        distance = np.linalg.norm(points - target, axis=1)
        # every mask pixel is on the object's surface: within the object's size of its origin
        assert np.percentile(distance, 95) < reach, (cam, info.target_category, np.percentile(distance, [50, 95]))
    assert seen >= 1, "the target is visible in neither camera"


@pytest.mark.parametrize("seed", SEEDS)
def test_depth_puts_floor_pixels_on_the_floor(pick_env, seed):
    """Depth scale (millimetres), intrinsics and extrinsics together: the floor lifts to z = 0."""
    obs, _ = pick_env.reset([seed], [seed])
    floor = next(a for a in pick_env.unwrapped.scene.actors.values() if a.name.startswith("floor"))
    floor_id = int(_np(floor.per_scene_id).reshape(-1)[0])
    for cam in CAMERA:
        pixels = (obs[f"{cam}_seg"][0] == floor_id) & (obs[f"{cam}_depth"][0, ..., 0] > 0)
        if pixels.sum() < 50:
            continue
        heights = _lift(pick_env, cam, obs, pixels)[:, 2]
        assert np.percentile(np.abs(heights), 95) < 0.02, (cam, np.percentile(heights, [5, 50, 95]))


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_other_pixels_are_not_the_target(pick_env, seed):
    obs, _ = pick_env.reset([seed], [seed])
    target_id = int(_np(pick_env.unwrapped.target.per_scene_id).reshape(-1)[0])
    for cam in CAMERA:
        assert np.array_equal(obs[f"{cam}_mask"][0], obs[f"{cam}_seg"][0] == target_id)


def test_base_pose_qpos_and_relative_poses_match_the_robot(pick_env):
    obs, _ = pick_env.reset([SEEDS[0]], [SEEDS[0]])
    for _ in range(3):  # drive and turn so the base is away from its spawn
        action = np.zeros((1, 13), np.float32)
        action[0, 11], action[0, 12] = 0.5, 0.5
        obs, _ = pick_env.step(action)
    agent = pick_env.unwrapped.agent
    base = agent.base_link.pose
    p, q = _np(base.p)[0], _np(base.q)[0]
    yaw = np.arctan2(2 * (q[0] * q[3] + q[1] * q[2]), 1 - 2 * (q[2] ** 2 + q[3] ** 2))
    np.testing.assert_allclose(obs["base_pose"][0], [p[0], p[1], yaw], atol=1e-4)
    np.testing.assert_allclose(obs["qpos"][0], _np(agent.robot.get_qpos())[0], atol=1e-5)
    # target pose in the base frame, mapped back to the world, is the target's world pose
    rel = obs["target_pose"][0]
    world = _quat_to_matrix(q) @ rel[:3] + p
    np.testing.assert_allclose(world, _np(pick_env.unwrapped.target.pose.p)[0], atol=1e-4)
    assert abs(np.linalg.norm(rel[3:]) - 1) < 1e-4 and abs(np.linalg.norm(obs["tcp_pose"][0, 3:]) - 1) < 1e-4
    tcp_world = _quat_to_matrix(q) @ obs["tcp_pose"][0, :3] + p
    np.testing.assert_allclose(tcp_world, _np(agent.tcp.pose.p)[0], atol=1e-4)
