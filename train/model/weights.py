"""Loading pretrained parts from a hub id or a local folder, with a one-line error when that fails.

Without a reachable hub (a cluster node offline, this project's machines), transformers raises a
long OSError; users need to know which setting points at a local copy instead.
"""

from collections.abc import Callable

from hab_aux.errors import UserError

# Which config setting names each part's source (for `habaux train --set KEY=DIR`).
SETTINGS = {
    "dinov2": "vision.dinov2.pretrained",
    "siglip": "vision.siglip.pretrained",
    "convnext": "vision.convnext.pretrained",
    "llm": "llm.model.pretrained",
    "tokenizer": "llm.tokenizer",
}


def load_pretrained_part(part: str, source: str, load: Callable[[str], object]):
    """`load(source)`, or a UserError saying how to provide the part from a local folder."""
    try:
        return load(source)
    except (OSError, ValueError) as err:  # transformers: OSError for missing files, ValueError for unusable ones
        reason = str(err).strip().splitlines()[0]
        raise UserError(f"cannot load the {part} weights from {source!r} ({reason}); where the hub is reachable run "
                        f"`hf download {source} --local-dir DIR`, then pass --set {SETTINGS[part]}=DIR") from None  # fmt: skip
