#!/usr/bin/env bash
# Takes the README's screenshots of the player window under a virtual display:
#   bash docs/screenshot.sh real   docs/voxelworld.png    # the real game
#   bash docs/screenshot.sh dream  docs/dream.png         # the bundled model's dream
#   bash docs/screenshot.sh beside docs/beside.png        # Tab: dream beside the real game
# CHECKPOINT=runs/x/model dreams that model instead of the bundled one.
# Needs Debian's xvfb, xdotool and imagemagick: apt-get install xvfb xdotool imagemagick
set -euo pipefail
mode="${1:-real}"
out="${2:-docs/voxelworld.png}"
seed="${3:-17}"
case "$mode" in
  real) args=(--real --seed "$seed"); width=640 ;;
  dream) args=(--seed "$seed" ${CHECKPOINT:+--checkpoint "$CHECKPOINT"}); width=640 ;;
  beside) args=(--seed "$seed" ${CHECKPOINT:+--checkpoint "$CHECKPOINT"}); width=1280 ;;
  *) echo "mode must be real, dream or beside" >&2; exit 2 ;;
esac
Xvfb :97 -screen 0 "${width}x640x24" >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb' EXIT
sleep 2
export DISPLAY=:97
worldsim play "${args[@]}" --max-frames 3600 &   # (a minute at 60 fps: killed once shot)
player=$!
sleep 8
xdotool mousemove 320 320 click 1                      # capture the mouse
if [ "$mode" = beside ]; then
  xdotool key Tab; sleep 1.5                           # the real game beside the dream
fi
xdotool keydown w; sleep 1.0; xdotool keyup w          # walk a few steps
xdotool mousemove_relative -- 40 -8; sleep 1.0         # look around with the mouse
import -window root "$out"
kill "$player" 2>/dev/null || true
wait "$player" 2>/dev/null || true
echo "wrote $out"
