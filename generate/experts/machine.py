"""The skeleton every expert shares: a phase machine advanced once per `select_action` call.

A phase is a method `_<name>(obs) -> action`; it moves on by setting `self.phase`. Episode noise
comes from a generator seeded with (policy seed, episode seed), so two episodes never replay the
same trajectory while one (seed, episode) pair always does.

Each expert draws a few per-episode choices (grasp heading, heights, standoffs, speeds) with
`draw`. With `vary=False` every choice is the middle of its range: the expert's next action is then
a function of what the scene and the robot show, which no single observation pins down otherwise.
"""

import numpy as np
import sapien

from hab_aux.generate.experts import motion
from hab_aux.policy import EpisodeInfo, Observation

REST_HOLD_STEPS = 40  # steps at rest without success before moving to rest again (a drift)


class Expert:
    name = "expert"

    def __init__(self, env, seed: int = 0, vary: bool = True):
        # The eval harness passes the sub-env index as the seed: the expert acts in sub-env `k`.
        self.env, self.seed, self.k, self.vary = env, seed, seed, vary
        if not vary:
            self.name = "expert-mid"
        self.kin = motion.Kinematics(env.unwrapped.agent.robot)

    def reset(self, episode: EpisodeInfo) -> None:
        self.rng = np.random.default_rng([self.seed, episode.episode_seed, 7])
        self.episode = episode
        self.steps_in_phase = 0
        self.tries = 0
        self.failed = False
        self.tracker: motion.Tracker | None = None
        self.gripper = motion.GRIPPER_CLOSED
        self.speed = float(self.draw(0.085, motion.MAX_SPEED))  # joint speed, rad per step
        self.start()
        # The first step already moves. No idle start, and no random idle time: a policy that reads
        # one frame cannot tell idle frames from the first move's (the same image), and learns to
        # stay still forever at the start.
        self.phase = self.first_phase

    def start(self) -> None:
        """Per-subtask episode set-up (noise draws)."""

    def draw(self, low: float, high: float, size: int | None = None):
        """A per-episode choice: uniform in [low, high], or its middle when the expert does not vary.
        The generator draws either way, so every later draw reads the same numbers in both."""
        value = self.rng.uniform(low, high, size)
        return value if self.vary else np.full_like(value, (low + high) / 2)

    def select_action(self, observation: Observation, instruction: str) -> np.ndarray:
        phase = self.phase
        act = getattr(self, f"_{phase}")(observation)
        self.steps_in_phase = self.steps_in_phase + 1 if self.phase == phase else 0
        return motion.action(**act) if isinstance(act, dict) else act

    def goto(self, phase: str) -> None:
        self.phase, self.steps_in_phase, self.tracker = phase, -1, None

    # ---- privileged state -----------------------------------------------------------------

    @property
    def u(self):
        return self.env.unwrapped

    def qpos(self) -> np.ndarray:
        return self.u.agent.robot.get_qpos()[self.k].cpu().numpy().astype(np.float64)

    def base_pose(self) -> sapien.Pose:
        p = self.u.agent.base_link.pose
        return sapien.Pose(p.p[self.k].cpu().numpy(), p.q[self.k].cpu().numpy())

    def target_pose(self) -> sapien.Pose:
        p = self.u.target.pose
        return sapien.Pose(p.p[self.k].cpu().numpy(), p.q[self.k].cpu().numpy())

    def tcp_pose(self) -> sapien.Pose:
        p = self.u.agent.tcp.pose
        return sapien.Pose(p.p[self.k].cpu().numpy(), p.q[self.k].cpu().numpy())

    def grasped(self, obs) -> bool:
        return bool(obs["is_grasped"])

    # ---- shared phases ----------------------------------------------------------------------

    def move(self, waypoints, gripper: float, speed: float | None = None, **base_cmd) -> dict:
        """Track joint waypoints (planned once, when the phase starts); base_cmd drives the base.

        When planning finds no IK solution the expert gives up: arm to rest, and stay there.
        """
        if self.tracker is None:
            planned = waypoints() if callable(waypoints) else waypoints
            if not planned:
                self.failed = True
                self.goto("rest")
                return dict(body=np.zeros(8), gripper=gripper)
            self.tracker = motion.Tracker(planned, speed or self.speed)
        return dict(body=self.tracker.body_action(self.qpos()), gripper=gripper, **base_cmd)

    def move_then(self, next_phase: str, waypoints, gripper: float, speed: float | None = None, **base_cmd) -> dict:
        """`move`, going on to `next_phase` once the motion has arrived."""
        act = self.move(waypoints, gripper, speed, **base_cmd)
        if self.moved:
            self.goto(next_phase)
        return act

    def gripper_phase(self, gripper: float, steps: int, next_phase: str, body: np.ndarray) -> dict:
        """Open or close the gripper for `steps` steps, `body` the arm and torso action meanwhile,
        then go on to `next_phase`."""
        self.gripper = gripper
        if self.steps_in_phase >= steps:
            self.goto(next_phase)
        return dict(body=body, gripper=self.gripper)

    @property
    def moved(self) -> bool:
        """The phase's joint motion has arrived (False after a planning failure sent us to rest)."""
        return self.tracker is not None and self.tracker.done

    def reach(self, pose: sapien.Pose) -> list[np.ndarray] | None:
        """One joint waypoint reaching a parallel-grasp pose (or its half-turned twin)."""
        body = self.kin.solve_near(pose, self.qpos())
        return None if body is None else [body]

    def reach_via(self, pre: sapien.Pose, final: sapien.Pose, symmetric: bool = True, intrusion=None) -> list[np.ndarray] | None:
        """Joint waypoints: a free joint move to `pre`, then a straight TCP line to `final`
        (turned like the `pre` solution, which may be the half-turned twin). `intrusion`: as in
        `Kinematics.solve_near`, for the free move."""
        body = self.kin.solve_near(pre, self.qpos(), symmetric=symmetric, intrusion=intrusion)
        if body is None:
            return None
        q = self.qpos()
        q[motion.BODY_IDX] = body
        tcp = self.kin.tcp(q)
        line = self.kin.path(motion.line(tcp, sapien.Pose(final.p, tcp.q)), q)
        return None if line is None else [body, *line]

    def leave_to_rest(self, p: np.ndarray) -> list[np.ndarray] | None:
        """A straight TCP line to `p`, then on to the rest configuration without stopping."""
        line = self.line_to(p)
        return None if line is None else [*line, motion.REST_BODY]

    def line_to(self, p: np.ndarray) -> list[np.ndarray] | None:
        """Joint waypoints moving the TCP in a straight line to `p`, keeping its orientation."""
        tcp = self.kin.tcp(self.qpos())
        return self.kin.path(motion.line(tcp, sapien.Pose(np.asarray(p, dtype=np.float64), tcp.q)), self.qpos())

    def _rest(self, obs):
        """Torso and arm back to the rest configuration, then keep still for the at-rest check."""
        return self.move_then("still", [motion.REST_BODY], self.gripper, speed=motion.MAX_SPEED)

    def settle(self) -> None:
        """The success rule holds: hold still (settle steps; see `hab_aux.policy.Settling`). Zero
        joint deltas set each PD target to the measured position, which brakes the last of the
        arm's motion; holding the pose of the success step instead pulls back against that motion
        with actions of up to 0.8 (measured on close-fridge)."""
        self.goto("settled")

    def _settled(self, obs):
        return dict(body=np.zeros(8), gripper=self.gripper)

    def _still(self, obs):
        if self.steps_in_phase > REST_HOLD_STEPS and not self.failed:
            self.goto("rest")
        return dict(body=motion.hold(self.qpos(), motion.REST_BODY), gripper=self.gripper)
