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
- depth (uint16 mm), 5,316 B per frame with zstd-9 over 10 steps, is where 2-D prediction pays:
  JPEG-XL lossless 3,031 B at effort 7 (0.57x), 3,631 B at effort 4, 4,142 B at effort 2; but
  effort 7 encodes in 5.7 ms per frame against 0.37 ms, and recording has no time to spare (its
  goal is 0.9x of bare stepping; a step of bare stepping is about 62 ms). DELTA_KINDS: numcodecs'
  Delta before the same zstd-9 (each value minus its left neighbour: row prediction, which keeps
  zstd's reach into the earlier frames) gives 3,767 B (0.71x) at 0.37 ms encode and 0.05 ms decode
  per frame, smaller than JPEG-XL below effort 4 at a fraction of its cost. Depth with JPEG-XL is
  one line away (FRAME_CODECS, the image-codec path: store/image_codec.py, one frame per inner
  chunk) when bytes matter more than encode time.
- Whole store, `python benchmarks/storage_loading.py --dataset data/SetTable-240 --episodes 40`
  (the first 40 episodes, all of them Pick): 13,050 bytes per transition with schema 3 against
  14,047 with schema 2 (same command at commit 68f1ee7), 0.71x vs 0.76x of MS-HAB-style h5. Random-access samples/s, run back to back on the
  busy machine: 680 vs 942 (5.7x vs 7.9x h5py; goal 3x). The fast reader decodes a delta chunk
  only up to the last step it needs (a running sum), but that sum is what the reader pays for.

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
# minus the one before it: its left neighbour in the row) before zstd.
DELTA_KINDS = ("depth",)
# Image kinds stored instead one frame per inner chunk by an imagecodecs codec (its numcodecs
# configuration), e.g. {"depth": {"id": "imagecodecs_jpegxl", "lossless": True, "effort": 7}}.
FRAME_CODECS: dict[str, dict] = {}


def is_image(key: str) -> bool:
    return len(schema.FIELDS[key].shape) >= 2


def image_kind(key: str) -> str:
    """rgb, depth, seg or mask: an image key without its camera."""
    return key.split("_", 1)[1]


def _delta(key: str) -> zarr_numcodecs.Delta:
    return zarr_numcodecs.Delta(dtype=schema.FIELDS[key].numpy_dtype.newbyteorder("<").str)


def stored_chain(key: str) -> tuple[list[numcodecs.abc.Codec], int]:
    """(the numcodecs codecs an image key's chunks go through, in order; steps per inner chunk),
    without the checksum: what benchmarks/compression.py measures and marks as stored."""
    kind = image_kind(key)
    if kind in FRAME_CODECS:
        return [ImageCodec(codec=FRAME_CODECS[kind]).numcodec], 1
    delta = [numcodecs.get_codec(_delta(key).codec_config)] if kind in DELTA_KINDS else []
    return [*delta, numcodecs.Zstd(level=IMAGE_ZSTD_LEVEL)], IMAGE_CHUNK


def step_array_spec(key: str) -> dict:
    """Keyword arguments for zarr.create_array of one step key (shape set by the writer)."""
    shape = schema.FIELDS[key].shape
    spec = {"shards": (SHARD_STEPS, *shape)}
    if is_image(key) and image_kind(key) in FRAME_CODECS:
        serializer = ImageCodec(codec=FRAME_CODECS[image_kind(key)])
        return spec | {"chunks": (1, *shape), "serializer": serializer, "compressors": [Crc32cCodec()]}
    if is_image(key):
        filters = [_delta(key)] if image_kind(key) in DELTA_KINDS else []
        compressors = [ZstdCodec(level=IMAGE_ZSTD_LEVEL), Crc32cCodec()]
        return spec | {"chunks": (IMAGE_CHUNK, *shape), "filters": filters, "compressors": compressors}
    blosc = BloscCodec(cname="zstd", clevel=5, shuffle=BloscShuffle.shuffle)
    return spec | {"chunks": (LOWDIM_CHUNK, *shape), "compressors": [blosc, Crc32cCodec()]}


def episode_array_spec() -> dict:
    return {"chunks": (EPISODE_CHUNK,), "compressors": [ZstdCodec(level=3), Crc32cCodec()]}
