"""Chunking and lossless compression of every array: the one place they are chosen.

Images, measured on real frames (schema 3): `python benchmarks/compression.py --dataset
data/SetTable-240 --windows 16 --repeat 3`, section "Image codecs" of benchmarks/results.md:
320 frames per kind from 16 runs of 10 consecutive steps over all SetTable columns, both cameras;
bytes per frame; encode / decode ms per frame on the shared 2-core machine while it trained and
generated (provisional: they compare within the table only).

- zstd-9 over 10 steps per inner chunk (schema 2's choice for every image key) already uses
  what a per-frame image codec cannot: zstd's window reaches the earlier frames of the chunk, and
  a deterministic renderer repeats most pixels from step to step. One frame per chunk costs zstd
  38-152% more bytes. Against it, every lossless image codec in imagecodecs (JPEG-XL at effort
  1-7, JPEG-LS, PNG, WebP, QOI, LERC, HTJ2K, JPEG 2000), one frame per chunk, loses on RGB (best:
  WebP lossless 3,221 B at 8 ms vs 3,056 B at 0.35 ms), on instance ids (JPEG-XL-7 459 B vs 365 B)
  and on masks (46 B vs 22 B). So rgb, seg and mask stay zstd-9 over IMAGE_CHUNK steps.
- depth (uint16 mm), 5,316 B per frame with zstd-9 over 10 steps, is where 2-D prediction pays,
  and `habaux generate --depth-codec` chooses between the two ends of the trade-off
  (DEPTH_CODECS; one value per store, kept in its attributes):
  - `delta-zstd` (the default): numcodecs' Delta before the same zstd-9 over 10 steps (each value
    minus its left neighbour: row prediction, which keeps zstd's reach into the earlier frames):
    3,767 B (0.71x) at 0.37 ms encode and 0.05 ms decode per frame;
  - `jpegxl`: JPEG-XL lossless at effort 7, one frame per inner chunk through the image-codec path
    (store/image_codec.py): 3,031 B (0.57x), but 5.7 ms encode and 1.0 ms decode per frame. Two
    frames per recorded step add about 11 ms of encoding (on the writer thread) to a recorded
    step of about 84 ms with one render thread (11.9 steps/s, section "Generation (expert
    policy)"), where recording's goal is 0.9x of bare stepping (not measured end to end with
    jpegxl). Lower efforts cost less and gain less (3,631 B
    at effort 4, 4,142 B at effort 2: no better than delta-zstd below effort 4, at several times
    its cost), so they are not offered.
- Whole store, `python benchmarks/storage_loading.py --dataset data/SetTable-240 --episodes 40
  [--depth-codec jpegxl]` (the first 40 episodes, all of them Pick; sections "Storage and loading"
  and "Storage and loading (--depth-codec jpegxl)", with bytes per key): 13,050 bytes per
  transition with delta-zstd, 11,898 with jpegxl, 14,047 with schema 2 (the same command at
  commit 68f1ee7): 0.71x, 0.65x and 0.76x of MS-HAB-style h5; none reaches the goal of 0.5x
  (RGB is 5,343 B of a transition, depth 6,716 or 5,564). Random-access samples/s against h5py, the readers
  taking turns on an idle machine: 5.7x with delta-zstd (the fast reader decodes a delta chunk
  only up to the last step it needs, a running sum), 2.8x with jpegxl: below the loader's goal of
  3x, so jpegxl is an option and not the default.

Low-dimensional float32 keys (qpos, poses, action), measured on synthetic episodes by the earlier
version of benchmarks/compression.py (commit 2aa6537, its table benchmarks/compression.md): ~50-60
B/step whatever the codec; blosc-zstd with byte shuffle is the smallest (46 B vs 56 B for qpos at 50
steps/chunk).

Chunks: IMAGE_CHUNK steps per inner chunk keeps a random read of one step to decoding 10 frames.
Each array is sharded along time into files of SHARD_STEPS steps. zarr rewrites a shard file whole
when an append touches it, so SHARD_STEPS = MAX_EPISODE_STEPS (200) bounds an append to rewriting
<= 2 files per key of about one episode each. benchmarks/append.py (append.md), 20 episodes of 200
steps (1.44 MB compressed each): bytes written per episode 1.46 MB at 200, 4.35 MB at 1000, 7.95
MB at 2000 (the write amplification of rewriting a filling shard file); timings on the shared
2-core machine were too noisy to rank (0.25-0.9 s per episode for all). Cost: one file per key per
200 steps (325 files per 4000 steps, vs 101 at 1000).
Every chain ends with a crc32c checksum so `habaux inspect --verify` catches corrupt chunks, and
names the inner chunk and its steps (fastread.StepReader.check_shard).
"""

import warnings

import numcodecs
import zarr.codecs.numcodecs as zarr_numcodecs
from zarr.codecs import BloscCodec, BloscShuffle, Crc32cCodec, ZstdCodec
from zarr.errors import ZarrUserWarning

from hab_aux import schema
from hab_aux.store.image_codec import ImageCodec

# zarr warns on every use of a numcodecs codec (the delta filter) that other zarr implementations
# may lack it; zarr-python itself reads it, and hab-aux's stores are read by hab-aux.
warnings.filterwarnings("ignore", "Numcodecs codecs are not in the Zarr version 3 specification", ZarrUserWarning)

IMAGE_CHUNK = 10  # steps per inner chunk of image keys stored with zstd
LOWDIM_CHUNK = 200  # steps per inner chunk for vectors and scalars
SHARD_STEPS = 200  # steps per shard file: a multiple of both chunks, = MAX_EPISODE_STEPS
EPISODE_CHUNK = 1024  # episodes per chunk of an episode-level array (tiny, unsharded)
IMAGE_ZSTD_LEVEL = 9
# Image kinds (a key without its camera) whose values go through numcodecs' Delta (each value
# minus the one before it: its left neighbour in the row) before zstd, unless an image codec holds them.
DELTA_KINDS = ("depth",)
# `habaux generate --depth-codec`: None is DELTA_KINDS' filter before zstd over IMAGE_CHUNK steps;
# a dict is the numcodecs configuration of an imagecodecs codec coding one frame per inner chunk.
DEPTH_CODECS: dict[str, dict | None] = {
    "delta-zstd": None,
    "jpegxl": {"id": "imagecodecs_jpegxl", "lossless": True, "effort": 7},
}
DEFAULT_DEPTH_CODEC = "delta-zstd"


def is_image(key: str) -> bool:
    return len(schema.FIELDS[key].shape) >= 2


def image_kind(key: str) -> str:
    """rgb, depth, seg or mask: an image key without its camera."""
    return key.split("_", 1)[1]


def _delta(key: str) -> zarr_numcodecs.Delta:
    return zarr_numcodecs.Delta(dtype=schema.FIELDS[key].numpy_dtype.newbyteorder("<").str)


def _frame_codec(key: str, depth_codec: str) -> ImageCodec | None:
    """The image codec that holds an image key one frame per inner chunk, if any."""
    config = DEPTH_CODECS[depth_codec] if image_kind(key) == "depth" else None
    return None if config is None else ImageCodec(codec=config)


def stored_chain(key: str, depth_codec: str) -> tuple[list[numcodecs.abc.Codec], int]:
    """(the numcodecs codecs an image key's chunks go through, in order; steps per inner chunk),
    without the checksum, with `depth_codec` (one of DEPTH_CODECS): what benchmarks/compression.py
    measures and marks as stored."""
    frame_codec = _frame_codec(key, depth_codec)
    if frame_codec is not None:
        return [frame_codec.numcodec], 1
    delta = [numcodecs.get_codec(_delta(key).codec_config)] if image_kind(key) in DELTA_KINDS else []
    return [*delta, numcodecs.Zstd(level=IMAGE_ZSTD_LEVEL)], IMAGE_CHUNK


def step_array_spec(key: str, depth_codec: str) -> dict:
    """Keyword arguments for zarr.create_array of one step key (shape set by the writer);
    `depth_codec` is one of DEPTH_CODECS."""
    shape = schema.FIELDS[key].shape
    spec = {"shards": (SHARD_STEPS, *shape)}
    frame_codec = _frame_codec(key, depth_codec) if is_image(key) else None
    if frame_codec is not None:
        return spec | {"chunks": (1, *shape), "serializer": frame_codec, "compressors": [Crc32cCodec()]}
    if is_image(key):
        filters = [_delta(key)] if image_kind(key) in DELTA_KINDS else []
        compressors = [ZstdCodec(level=IMAGE_ZSTD_LEVEL), Crc32cCodec()]
        return spec | {"chunks": (IMAGE_CHUNK, *shape), "filters": filters, "compressors": compressors}
    blosc = BloscCodec(cname="zstd", clevel=5, shuffle=BloscShuffle.shuffle)
    return spec | {"chunks": (LOWDIM_CHUNK, *shape), "compressors": [blosc, Crc32cCodec()]}


def episode_array_spec() -> dict:
    return {"chunks": (EPISODE_CHUNK,), "compressors": [ZstdCodec(level=3), Crc32cCodec()]}
