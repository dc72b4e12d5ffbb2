#!/usr/bin/env bash
# A screenshot of a learned game's dream beside the real game (F3) in the player window,
# under a virtual display, after pressing some of the game's keys:
#   bash docs/learn_screenshot.sh learned/pong/model docs/learn-pong.png "d d a a"
#   bash docs/learn_screenshot.sh learned/minigrid/model docs/learn-minigrid.png "3 1 3 3"
# Needs Debian's xvfb, xdotool and imagemagick: apt-get install xvfb xdotool imagemagick
set -euo pipefail
checkpoint="$1"
out="$2"
keys="${3:-}"
seed="${4:-3}"
Xvfb :98 -screen 0 1280x640x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb' EXIT
sleep 2
export DISPLAY=:98
worldsim play --checkpoint "$checkpoint" --seed "$seed" --max-frames 3600 &
player=$!
sleep 8
xdotool key F3; sleep 1.5                            # the real game beside the dream
for key in $keys; do
  xdotool keydown "$key"; sleep 0.4; xdotool keyup "$key"; sleep 0.2
done
import -window root "$out"
kill "$player" 2>/dev/null || true
wait "$player" 2>/dev/null || true
echo "wrote $out"
