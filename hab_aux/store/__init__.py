"""Dataset store: sharded zarr v3 groups in the replay-buffer layout of schema.py, plus a manifest.

Write with `ShardWriter`, read with `open_dataset`; `build_manifest` merges shards from
independent jobs. Layout: layout.py; crash safety: writer.py; codecs: codecs.py.
"""

from hab_aux.store.layout import build_manifest
from hab_aux.store.reader import Dataset, open_dataset
from hab_aux.store.writer import ShardWriter, check_episode

__all__ = ["Dataset", "ShardWriter", "build_manifest", "check_episode", "open_dataset"]
