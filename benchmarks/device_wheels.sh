#!/usr/bin/env bash
# The Python packages that benchmarks/device_train.sh needs and a lent GPU machine's image
# lacks, as wheels in .whl/ (git-ignored through .git/info/exclude), about 1 MB:
#
#   bash benchmarks/device_wheels.sh
#
# Then name .whl in the device call's carry. The image has torch, numpy, numba, safetensors,
# tqdm, pillow, imageio and matplotlib, and Python 3.12. moviepy is left out (its ffmpeg
# wheel is 68 MB, over what a call may carry): training's sample videos fall back to GIFs.
set -euo pipefail
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  -d .whl gymnasium==1.4.0 farama-notifications==0.0.6 opensimplex==0.4.5.1 ruamel.yaml==0.19.1
python3 -m pip wheel -q --no-deps crafter==1.8.3 -w .whl  # published as source only
ls .whl
