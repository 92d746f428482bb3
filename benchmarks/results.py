"""Write one benchmark's figures into benchmarks/results.md, under its own heading, with the machine;
and the measured training speed per preset into benchmarks/throughput.json (`habaux model-info` shows it)."""

import json
import os
import platform
import re
import time
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).with_name("results.md")
THROUGHPUT = Path(__file__).with_name("throughput.json")
HEADER = "# Benchmark results\n\nEach section is written by the script it names; rerun it to refresh that section.\n"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = []
    for dist in ("torch", "sapien", "mani_skill", "zarr"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pass
    gpu = "no GPU"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, {gpu}; Python {platform.python_version()}, {', '.join(versions)}"


def record(section: str, command: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or add) `## section` in results.md (or `path`) with the body, the command and the machine."""
    text = path.read_text() if path.exists() else HEADER
    block = (f"## {section}\n\nCommand: `{command}`  \nMeasured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
             f"on {machine()}\n\n{body.strip()}\n\n")  # fmt: skip
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    path.write_text(text)
    print(block)


def record_throughput(preset: str, figures: dict) -> None:
    """Replace this preset's entry in throughput.json."""
    table = json.loads(THROUGHPUT.read_text()) if THROUGHPUT.exists() else {}
    table[preset] = figures
    THROUGHPUT.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
