"""Stack evenly spaced frames of a rollout video into one PNG (the README's close-sgvla rollout strip).

    python scripts/video_strip.py out/vid/close-sgvla/SetTable_Close_F_1000003_ok.mp4 docs/close-sgvla-rollout.png
"""

import argparse

import imageio.v3 as iio
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video")
    parser.add_argument("out")
    parser.add_argument("--frames", type=int, default=5, help="how many frames, first and last included")
    args = parser.parse_args()
    frames = iio.imread(args.video)
    index = np.linspace(0, len(frames) - 1, args.frames).round().astype(int)
    iio.imwrite(args.out, np.concatenate([frames[i] for i in index], axis=0))
    print(f"wrote {args.out}: frames {', '.join(map(str, index))} of {len(frames)}")


if __name__ == "__main__":
    main()
