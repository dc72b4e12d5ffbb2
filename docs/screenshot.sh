#!/usr/bin/env bash
# Takes the README's screenshot of the real VoxelWorld window under a virtual display.
# Needs Debian's xvfb, xdotool and imagemagick: apt-get install xvfb xdotool imagemagick
set -euo pipefail
out="${1:-docs/voxelworld.png}"
seed="${2:-17}"
Xvfb :97 -screen 0 640x640x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb' EXIT
sleep 2
export DISPLAY=:97
worldsim play --real --seed "$seed" --max-frames 300 &
player=$!
sleep 5
xdotool mousemove 320 320
xdotool keydown w; sleep 1.0; xdotool keyup w          # walk a few steps
xdotool mousemove_relative -- 40 -8; sleep 1.0         # look around with the mouse
import -window root "$out"
wait "$player"
echo "wrote $out"
