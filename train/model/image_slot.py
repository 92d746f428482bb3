"""`ImageSlot`: one image of the model's vision prefix, and the schema key it reads."""

from dataclasses import dataclass

KINDS = ("rgb", "depth")


@dataclass(frozen=True)
class ImageSlot:
    """Camera `camera`'s `kind` image (rgb or depth), `frame` steps back (0 = the current step)."""

    frame: int
    camera: str
    kind: str

    @classmethod
    def current(cls, key: str) -> "ImageSlot":
        """The current frame of a sample key: "head_rgb" -> ImageSlot(0, "head", "rgb")."""
        camera, _, kind = key.rpartition("_")
        return cls(0, camera, kind)

    @property
    def key(self) -> str:
        """The sample (schema) key it reads: head_rgb, hand_depth, ..."""
        return f"{self.camera}_{self.kind}"

    @property
    def is_depth(self) -> bool:
        return self.kind == "depth"

    def __str__(self) -> str:
        return f"{self.frame}:{self.key}"
