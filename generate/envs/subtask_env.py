"""The ManiSkill environment behind every subtask: Fetch in a procedural home.

Layouts are rebuilt (reconfigured) only when the layout seeds change; each episode then places
objects, joints and the robot from an `EpisodePlan`. Every sub-scene gets its own home via
builders' `scene_idxs`, so `num_envs > 1` on physx_cuda is structurally supported.
"""

import numpy as np
import sapien
import torch

from hab_aux import success as rules
from hab_aux.generate.envs.episodes import JOINT_RANGES, EpisodePlan, plan_episode
from hab_aux.generate.world.goal_marker import build_goal_marker, marker_position
from hab_aux.generate.world.home import build_home
from hab_aux.generate.world.layout import sample_layout
from hab_aux.generate.world.objects import SPECS
from hab_aux.tasks import MAX_EPISODE_STEPS, SUBTASKS, Target
from mani_skill.envs.sapien_env import BaseEnv
from mani_skill.sensors.camera import CameraConfig
from mani_skill.utils import sapien_utils
from mani_skill.utils.registration import register_env
from mani_skill.utils.structs import Actor, Articulation, Link, Pose
from mani_skill.utils.structs.types import GPUMemoryConfig, SimConfig

# MS-HAB's rest configuration (Fetch's "rest" keyframe), qpos order of mshab.md without the base.
REST_QPOS = np.array([0.386, 0, -0.370, 0.562, -1.032, 0.695, 0.955, -0.1, 2.077, 0, 0.015, 0.015], dtype=np.float32)
ARM_QPOS_IDX = [5, 7, 8, 9, 10, 11, 12]  # shoulder_pan .. wrist_roll in the 15-D qpos
# Contacts of these links are the grasp itself, not collisions.
GRASP_LINKS = ("gripper_link", "r_gripper_finger_link", "l_gripper_finger_link")
SETTLE_SIM_STEPS = 20  # physics steps that let a held object settle between the fingers at reset


class HabAuxSubtaskEnv(BaseEnv):
    SUPPORTED_ROBOTS = ["fetch"]
    subtask: str = ""  # set by the registered subclasses

    def __init__(self, *args, task: str = "SetTable", articulation: str | None = None, robot_uids="fetch", num_envs=1, **kwargs):
        self.task_name, self.articulation = task, articulation
        self.layout_seeds = [0] * num_envs
        self.plans: list[EpisodePlan] = [self._plan(0, 0)] * num_envs
        super().__init__(*args, robot_uids=robot_uids, num_envs=num_envs, reconfiguration_freq=0, **kwargs)

    def _plan(self, layout_seed: int, episode_seed: int) -> EpisodePlan:
        return plan_episode(self.task_name, self.subtask, self.articulation, sample_layout(layout_seed), episode_seed)

    def set_episodes(self, layout_seeds: list[int], episode_seeds: list[int]) -> bool:
        """Plan the next episodes; returns whether the layouts changed (a reconfigure is needed)."""
        changed = list(layout_seeds) != self.layout_seeds
        self.layout_seeds = list(layout_seeds)
        self.plans = [self._plan(ls, es) for ls, es in zip(layout_seeds, episode_seeds)]
        return changed

    @property
    def _default_sim_config(self):
        # Sub-scenes sit 20 m apart on the GPU: more than any room, so homes never overlap.
        return SimConfig(spacing=20, sim_freq=100, control_freq=20,
                         gpu_memory_config=GPUMemoryConfig(max_rigid_contact_count=2**21, max_rigid_patch_count=2**19))  # fmt: skip

    @property
    def _default_sensor_configs(self):
        return []  # Fetch brings fetch_head and fetch_hand

    @property
    def _default_human_render_camera_configs(self):
        # Above and beside the robot, carried by the base so it always frames the work area.
        pose = sapien_utils.look_at(eye=[-0.5, 1.4, 2.1], target=[0.8, -0.1, 0.6])
        return CameraConfig("third_person", pose=pose, width=256, height=256, fov=1.3, near=0.01, far=30,
                            mount=self.agent.base_link)  # fmt: skip

    def _load_agent(self, options: dict):
        super()._load_agent(options, sapien.Pose())

    def _load_scene(self, options: dict):
        layouts = [sample_layout(s) for s in self.layout_seeds]
        self.homes = [build_home(self.scene, layout, i) for i, layout in enumerate(layouts)]
        self.fridge = Articulation.merge([h.fridge for h in self.homes], name="fridge")
        self.counter = Articulation.merge([h.counter for h in self.homes], name="counter")
        self.handles = {
            "fridge": _merge_links([h.fridge.links_map["fridge_handle"] for h in self.homes], "fridge_handle"),
            "drawer": _merge_links([h.counter.links_map["drawer_handle"] for h in self.homes], "drawer_handle"),
        }
        self.goal_marker = None
        if SUBTASKS[self.subtask].to_goal:
            self.goal_marker = Actor.merge([build_goal_marker(self.scene, i) for i in range(self.num_envs)], name="goal_marker")

    def _load_lighting(self, options: dict):
        self.scene.set_ambient_light(list(sample_layout(self.layout_seeds[0]).ambient))
        for i, seed in enumerate(self.layout_seeds):
            layout = sample_layout(seed)
            self.scene.add_directional_light(list(layout.light_direction), list(layout.light_color), scene_idxs=[i])
            self.scene.add_point_light([layout.room[0] / 2, layout.room[1] / 2, 2.3], [2, 2, 2], scene_idxs=[i])

    # ---- episodes ----------------------------------------------------------------------------

    def _initialize_episode(self, env_idx: torch.Tensor, options: dict):
        assert len(env_idx) == self.num_envs, "episodes are planned for all sub-scenes at once"
        for home, plan in zip(self.homes, self.plans):
            for name, actor in home.objects.items():
                x, y, z, yaw = plan.object_poses[name]
                actor.set_pose(Pose.create_from_pq([x, y, z + 0.002], [np.cos(yaw / 2), 0, 0, np.sin(yaw / 2)]))
                actor.set_linear_velocity(torch.zeros(1, 3))
                actor.set_angular_velocity(torch.zeros(1, 3))
        self._set_joint_fractions()
        qpos = np.zeros((self.num_envs, 15), dtype=np.float32)
        qpos[:, 3:] = REST_QPOS
        qpos[:, :3] = [p.base for p in self.plans]
        self.agent.robot.set_qpos(torch.as_tensor(qpos, device=self.device))
        self.agent.robot.set_qvel(torch.zeros_like(self.agent.robot.get_qvel()))
        self._select_targets()
        if SUBTASKS[self.subtask].to_goal:
            self._put_in_gripper()
        self.cumulative_force = torch.zeros(self.num_envs, device=self.device)
        self.goal_pos = torch.as_tensor(np.array([p.goal or (0.0, 0.0, 0.0) for p in self.plans]), device=self.device, dtype=torch.float32)
        if self.goal_marker is not None:
            at = np.array([marker_position(p.goal) for p in self.plans])
            self.goal_marker.set_pose(Pose.create_from_pq(torch.as_tensor(at, device=self.device, dtype=torch.float32)))

    def _set_joint_fractions(self):
        for name, art in (("fridge", self.fridge), ("drawer", self.counter)):
            lo, hi = JOINT_RANGES[name]
            q = torch.tensor([[lo + p.joint_fractions[name] * (hi - lo)] for p in self.plans], device=self.device)
            art.set_qpos(q)
            art.set_qvel(torch.zeros_like(q))

    def _select_targets(self):
        """Merged views over each sub-scene's target (objects may differ per sub-scene)."""
        if SUBTASKS[self.subtask].target is Target.OBJECT:
            self.target = Actor.merge([h.objects[p.target_name] for h, p in zip(self.homes, self.plans)], name="target")
            self.target_art = None
        else:
            self.target = self.handles[self.articulation]
            self.target_art = self.fridge if self.articulation == "fridge" else self.counter

    def _put_in_gripper(self):
        """Place episodes start holding the target: put it between fingers that touch it, squeeze, settle.

        The object hangs as if picked top-down (its up axis against the gripper's approach axis),
        the fingers closing across its grasp width (the bowl: across its rim wall).
        """
        qpos = self.agent.robot.get_qpos().clone()
        widths = [SPECS[p.target_name].grasp_half_width for p in self.plans]
        qpos[:, -2:] = torch.tensor(widths, device=self.device)[:, None]  # fingers touching the object
        self.agent.robot.set_qpos(qpos)
        self._refresh_kinematics()
        tcp = self.agent.tcp.pose
        rot = tcp.to_transformation_matrix()[:, :3, :3]
        for i, (home, plan) in enumerate(zip(self.homes, self.plans)):
            r = rot[i].cpu().numpy()
            approach, closing = r[:, 0], r[:, 1]
            up = -approach
            x_axis = closing if plan.target_name == "bowl" else np.cross(closing, up)
            obj_r = np.stack([x_axis, np.cross(up, x_axis), up], axis=1)
            spec = SPECS[plan.target_name]
            grasp_local = np.array([spec.grasp_x, 0.0, spec.grasp_height])
            pos = tcp.p[i].cpu().numpy() - obj_r @ grasp_local
            m = np.eye(4)
            m[:3, :3], m[:3, 3] = obj_r, pos
            home.objects[plan.target_name].set_pose(Pose.create(sapien.Pose(m)))
        robot = self.agent.robot
        arm_and_body = robot.get_qpos()[:, 3:-2]
        robot.set_joint_drive_targets(arm_and_body, joints=robot.active_joints[3:-2])
        # fingers driven shut: they close as far as the object lets them
        robot.set_joint_drive_targets(torch.zeros_like(arm_and_body[:, :2]), joints=robot.active_joints[-2:])
        for _ in range(SETTLE_SIM_STEPS):
            self._sim_step()

    def _refresh_kinematics(self):
        """Make link poses follow qpos just set (the CPU sim does this by itself)."""
        if self.gpu_sim_enabled:
            self.scene._gpu_apply_all()
            self.scene.px.gpu_update_articulation_kinematics()
            self.scene._gpu_fetch_all()

    def _sim_step(self):
        if self.gpu_sim_enabled:
            self.scene._gpu_apply_all()
        self.scene.px.step()
        if self.gpu_sim_enabled:
            self.scene._gpu_fetch_all()

    # ---- per step ----------------------------------------------------------------------------

    def _after_control_step(self):
        names = [link.name for link in self.agent.robot.links if link.name not in GRASP_LINKS]
        forces = self.agent.robot.get_net_contact_forces(tuple(names))
        self.cumulative_force += torch.linalg.norm(forces, dim=-1).sum(-1)

    def evaluate(self):
        base_inv = self.agent.base_link.pose.inv()
        tcp_in_base = (base_inv * self.agent.tcp.pose).p.cpu().numpy()
        qpos, qvel = self.agent.robot.get_qpos().cpu().numpy(), self.agent.robot.get_qvel().cpu().numpy()
        grasped = self.agent.is_grasping(self.target, max_angle=30).cpu().numpy()
        force = self.cumulative_force.cpu().numpy()
        obj = self.target.pose.p.cpu().numpy()
        joint = self.target_art.qpos[:, 0].cpu().numpy() if self.target_art is not None else None
        rule = SUBTASKS[self.subtask]
        rest_arm = REST_QPOS[np.array(ARM_QPOS_IDX) - 3]
        success, rest, rest_gap, static, fraction, dist = [], [], [], [], [], []
        for i in range(self.num_envs):
            rest_gap.append(rules.rest_errors(tcp_in_base[i], self.rest_tcp_in_base, qpos[i, ARM_QPOS_IDX], rest_arm))
            static.append(rules.is_static(qvel[i, 3:-2], qvel[i, :3]))
            ok_rest = rules.rest_reached(*rest_gap[-1], static[-1], force[i], rule.collision_force_limit)
            rest.append(ok_rest)
            measured = rules.Measured(ok_rest, grasped[i])
            if rule.to_goal:
                goal = self.goal_pos[i].cpu().numpy()
                dist.append(float(np.linalg.norm(obj[i] - goal)))
                measured = rules.Measured(ok_rest, grasped[i], obj_pos=obj[i], goal_pos=goal)
            elif rule.target is Target.HANDLE:
                lo, hi = JOINT_RANGES[self.articulation]
                fraction.append(rules.joint_fraction(joint[i], lo, hi))
                measured = rules.Measured(ok_rest, grasped[i], joint=joint[i], lo=lo, hi=hi, articulation=self.articulation)
            success.append(rule.success(measured))
        info = {
            "success": torch.tensor(success, device=self.device),
            "at_rest": torch.tensor(rest, device=self.device),
            # why not at rest (failure diagnosis): TCP distance (m), largest arm joint error (rad), static
            "rest_tcp_distance": torch.tensor([g[0] for g in rest_gap], device=self.device),
            "rest_arm_error": torch.tensor([g[1] for g in rest_gap], device=self.device),
            "static": torch.tensor(static, device=self.device),
            "is_grasped": torch.as_tensor(grasped, device=self.device),
            "cumulative_force": self.cumulative_force.clone(),
            "collision": torch.tensor([rules.collision_exceeded(f, rule.collision_force_limit) for f in force], device=self.device),
        }
        if fraction:
            info["joint_fraction"] = torch.tensor(fraction, device=self.device)
        if dist:
            info["goal_distance"] = torch.tensor(dist, device=self.device)
        return info

    def _get_obs_extra(self, info: dict):
        # ManiSkill calls evaluate before building the observation (reset and step): the grasp
        # flag travels to the schema's "is_grasped" label from here instead of a second contact query.
        return {"is_grasped": info["is_grasped"]}

    def _after_reconfigure(self, options):
        # TCP rest position in the base frame: fixed by the rest qpos, measured once on a placed robot.
        qpos = torch.zeros((self.num_envs, 15), device=self.device)
        qpos[:, 3:] = torch.as_tensor(REST_QPOS)
        self.agent.robot.set_qpos(qpos)
        self._refresh_kinematics()
        self.rest_tcp_in_base = (self.agent.base_link.pose.inv() * self.agent.tcp.pose).p[0].cpu().numpy()

    def compute_dense_reward(self, obs, action, info):
        return info["success"].float() if "success" in info else torch.zeros(self.num_envs, device=self.device)

    def compute_normalized_dense_reward(self, obs, action, info):
        return self.compute_dense_reward(obs, action, info)


def _merge_links(links: list[Link], name: str) -> Link:
    """One view over a link per sub-scene. `Link.merge` wants movable joints; handles hang on fixed ones."""
    merged = Link.create([o for link in links for o in link._objs], scene=links[0].scene,
                         scene_idxs=torch.concat([link._scene_idxs for link in links]))  # fmt: skip
    merged.name, merged.merged = name, True
    return merged


def _register(subtask: str):
    cls = type(f"HabAux{subtask.title()}Env", (HabAuxSubtaskEnv,), {"subtask": subtask})
    return register_env(f"HabAux-{subtask.title()}-v0", max_episode_steps=MAX_EPISODE_STEPS)(cls)


ENV_IDS = {s: f"HabAux-{s.title()}-v0" for s in SUBTASKS}
for _subtask in ENV_IDS:
    _register(_subtask)
