#!/usr/bin/env bash
# Train a dream on a lent GPU machine in one call, and bring the model back.
#
#   bash benchmarks/device_train.sh WORLD MINUTES [INIT]
#
# Run on the device machine from the repository root, with the Python packages its image
# lacks carried as wheels in .whl/ (make them here with benchmarks/device_wheels.sh). It
#   1. installs the wheels into /tmp/site (the image's own torch, numpy and numba stay);
#   2. collects the bundled model's recipe of play for WORLD (voxel or crafter) on all
#      cores: explorer and random play, the seeds and lengths of the README;
#   3. trains PRESET (default edit, the bundled models' preset) for MINUTES minutes of
#      training (`worldsim train --minutes`), in bf16 with BATCH windows a step (default
#      64), from INIT when given (a model folder carried with the tree);
#   4. exports the model (float16) with its start contexts to $OUT/model, with the
#      training log, so it comes back (each file under 16 MiB).
# The next session goes on from the returned model with INIT=that folder (or on a CPU with
# `worldsim train --init`): the optimizer starts afresh, everything else is kept.
#
# Settings by environment: PRESET, BATCH, DEVICE (cuda), EPISODES (explorer episodes; the
# random ones are half as many), WORKERS (cores), EVENT_SHARE (0.25), RUN (run folder),
# DATA (where play is collected, data), DYN_STEPS (the last training step; default the
# preset's 30,000: raise it to go on from a model that has reached it).
# On a CPU with tiny settings it checks itself:
#   OUT=/tmp/out DATA=/tmp/d RUN=/tmp/r DEVICE=cpu PRESET=edit-tiny EPISODES=2 BATCH=4 \
#     bash benchmarks/device_train.sh voxel 0.1
set -euo pipefail
WORLD=${1:?usage: device_train.sh WORLD MINUTES [INIT]}
MINUTES=${2:?usage: device_train.sh WORLD MINUTES [INIT]}
INIT=${3:-}
PRESET=${PRESET:-edit}
BATCH=${BATCH:-64}
DEVICE=${DEVICE:-cuda}
WORKERS=${WORKERS:-$(nproc)}
EVENT_SHARE=${EVENT_SHARE:-0.25}
RUN=${RUN:-runs/$WORLD-device}
DATA=${DATA:-data}
DYN_STEPS=${DYN_STEPS:-}
OUT=${OUT:?set OUT to the folder that comes back}
mkdir -p "$OUT"
case "$WORLD" in
  voxel) EPISODES=${EPISODES:-200}; STEPS=1000 ;;
  crafter) EPISODES=${EPISODES:-400}; STEPS=2000 ;;
  *) echo "device_train.sh: WORLD must be voxel or crafter, got $WORLD" >&2; exit 2 ;;
esac
RANDOM_EPISODES=$(( (EPISODES + 1) / 2 ))

if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1
ws() { python3 -m demos.cli "$@"; }
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"

start=$(date +%s)
ws collect --world "$WORLD" --policy explorer --episodes "$EPISODES" --steps "$STEPS" \
  --out "$DATA/$WORLD" --workers "$WORKERS" --quiet
ws collect --world "$WORLD" --policy random --episodes "$RANDOM_EPISODES" --steps 1000 \
  --seed 3000 --out "$DATA/$WORLD-random" --workers "$WORKERS" --quiet
echo "collected in $(( $(date +%s) - start )) s"

train_args=()
if [ -n "$INIT" ]; then train_args=(--init "$INIT"); fi
if [ -n "$DYN_STEPS" ]; then train_args+=(--steps "$DYN_STEPS"); fi
ws train --data "$DATA/$WORLD" "$DATA/$WORLD-random" --out "$RUN" --preset "$PRESET" \
  --device "$DEVICE" --precision bf16 --batch "$BATCH" \
  --event-share "$EVENT_SHARE" --minutes "$MINUTES" --sample-every 0 "${train_args[@]}" \
  > "$OUT/train.log" 2>&1 || { tr '\r' '\n' < "$OUT/train.log" | tail -30; exit 1; }
tr '\r' '\n' < "$OUT/train.log" | grep -v -E '^dynamics: +[0-9]+%' | tail -8

ws export --checkpoint "$RUN/model" --out "$OUT/model"
cp "$RUN/log.jsonl" "$OUT/log.jsonl"
python3 - "$RUN/log.jsonl" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
losses = [r["loss"] for r in rows if r["phase"] == "dynamics"]
if losses:
    tail = losses[-100:]
    print(f"{len(losses)} steps this run, last-100 mean loss {sum(tail) / len(tail):.4f}")
EOF
echo "done in $(( $(date +%s) - start )) s: $OUT/model"
