"""Which episodes train which decoder: the paper's label allocation and the all-labels one, as data."""

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelSource:
    """Episodes whose label `key` trains a decoder: tasks and subtasks (None = any)."""

    key: str
    tasks: tuple[str, ...] | None = None
    subtasks: tuple[str, ...] | None = None

    def provides(self, task: str, subtask: str) -> bool:
        return (self.tasks is None or task in self.tasks) and (self.subtasks is None or subtask in self.subtasks)


# SG-VLA's data split by relevance: global position, grasp and joint pose from SetTable (all
# subtasks); segmentation and object pose from pick/place of every task.
PAPER_ALLOCATION: tuple[LabelSource, ...] = (
    LabelSource("base_pose", tasks=("SetTable",)),
    LabelSource("is_grasped", tasks=("SetTable",)),
    LabelSource("qpos", tasks=("SetTable",)),
    LabelSource("target_pose", subtasks=("pick", "place")),
    LabelSource("head_mask", subtasks=("pick", "place")),
    LabelSource("hand_mask", subtasks=("pick", "place")),
)
# Every label from every episode that records it: for datasets without pick/place (e.g. only drawer
# episodes), where the paper's allocation would leave the object-pose and mask decoders no data.
ALL_LABELS: tuple[LabelSource, ...] = tuple(LabelSource(src.key) for src in PAPER_ALLOCATION)
LABEL_ALLOCATIONS: dict[str, tuple[LabelSource, ...]] = {"paper": PAPER_ALLOCATION, "all": ALL_LABELS}
