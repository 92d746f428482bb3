#!/bin/bash
# Build, on a CPU machine with package access, what scripts/gpu_check.sh installs on a GPU machine
# that has Python 3.12, PyTorch, transformers and numpy but no network (README: On a GPU):
#   .gpu-bundles/site-N.tar.xz   the Python packages hab-aux needs beyond that image, installed for
#                                CPython 3.12 x86-64 into one folder and split into xz tarballs < 60 MiB
#   .gpu-bundles/gl/*.deb        the Vulkan/EGL loaders, for a machine whose ldconfig lacks libvulkan
# mani_skill is repacked slim: only the Fetch robot's assets; no other robots (50 MB), no HDR
# environment map (24 MB, unused by our world) and no scene-builder data (ReplicaCAD, tables).
# Usage: bash scripts/gpu_wheels.sh [OUT_DIR]      (idempotent: rebuilds OUT_DIR from scratch)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.gpu-bundles}
pip=(python3 -m pip)
[ -x .venv/bin/python ] && pip=(.venv/bin/python -m pip)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What the GPU image lacks (device KINDS.md lists what it has), pinned to the versions tested here.
# Only what generate, eval and train import: mani_skill's other requirements (mplib and toppra for
# motion planning, GitPython, tyro, IPython's terminal and completion stack, 90 MB in all) are never
# imported on these paths (checked by blocking them: an env builds and steps without them);
# opencv-python is served by the image's opencv-python-headless; imageio-ffmpeg is only for --video.
packages=(
  sapien==3.0.3 mani_skill==3.0.1 zarr==3.1.6 numcodecs==0.16.6 donfig==0.8.1.post1 google-crc32c==1.9.0
  gymnasium==1.4.0 farama-notifications==0.0.6 transforms3d==0.4.2 trimesh==5.2.0 dacite==1.9.2 defusedxml==0.7.1
  pytorch-kinematics==0.7.6 arm-pytorch-utilities==0.5.0 pytorch-seed==0.2.0 importlib-resources==7.1.0
  pyperclip==1.11.0 ipython==9.18.1 traitlets==5.16.1
)
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
"${pip[@]}" download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${platforms[@]}" \
  -d "$work/wheels" "${packages[@]}"

# mani_skill, slim: drop every robot but Fetch, the environment maps, the demo scene and scene-builder data.
slim="$work/slim"
mkdir -p "$slim"
(cd "$slim" && python3 -m zipfile -e "$work"/wheels/mani_skill-*.whl .)
find "$slim/mani_skill/assets/robots" -mindepth 1 -maxdepth 1 -type d ! -name fetch -exec rm -rf {} +
rm -rf "$slim/mani_skill/assets/environment_maps" "$slim"/mani_skill/assets/*.glb
find "$slim/mani_skill/utils/scene_builder" -type f ! -name '*.py' -delete
rm "$work"/wheels/mani_skill-*.whl
python3 - "$slim" "$work/wheels" <<'EOF'
import base64, hashlib, pathlib, sys, zipfile
root, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
info = next(root.glob("*.dist-info"))
files = sorted(p for p in root.rglob("*") if p.is_file() and p != info / "RECORD")
lines = []
for p in files:
    data = p.read_bytes()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    lines.append(f"{p.relative_to(root).as_posix()},sha256={digest},{len(data)}")
lines.append(f"{info.name}/RECORD,,")
(info / "RECORD").write_text("\n".join(lines) + "\n")
with zipfile.ZipFile(dest / f"{info.name.removesuffix('.dist-info')}-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED) as z:
    for p in files + [info / "RECORD"]:
        z.write(p, p.relative_to(root).as_posix())
EOF

# Install into one site folder for CPython 3.12 (nothing runs here), then pack it in xz tarballs.
"${pip[@]}" install -q --no-deps --no-index --no-compile --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platforms[@]}" --target "$work/site" "$work"/wheels/*.whl
rm -rf "$out" && mkdir -p "$out/gl"
(cd "$work/site" && ls -d sapien* > "$work/group1" && ls -d * | grep -v '^sapien' > "$work/group2")
for n in 1 2; do
  tar -C "$work/site" -cJf "$out/site-$n.tar.xz" -T "$work/group$n"
done
# Vulkan/EGL loaders (Debian packages, unpacked there only when its ldconfig lacks libvulkan).
if command -v apt-get >/dev/null; then
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$work/lists")
  mkdir -p "$work/lists/partial"
  apt-get "${o[@]}" -qq update >/dev/null
  (cd "$out/gl" && apt-get "${o[@]}" -qq download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
fi
limit=$((60 * 1024 * 1024))
for f in "$out"/site-*.tar.xz; do
  size=$(stat -c %s "$f")
  [ "$size" -lt "$limit" ] || { echo "gpu_wheels: $f is $size bytes, over 60 MiB" >&2; exit 1; }
done
du -b "$out"/site-*.tar.xz "$out"/gl | awk '{printf "%8.1f MiB  %s\n", $1 / 1048576, $2}'
du -sb "$out" | awk '{printf "%8.1f MiB  in all\n", $1 / 1048576}'
