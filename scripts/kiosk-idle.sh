#!/usr/bin/env bash
# What an idle kiosk costs: the kiosk app (bin/waystation-kiosk-screen, or
# $1) on its attract screen at 1920x1080 under its own Xvfb, no controller
# reachable, for $2 seconds (default 20) after a 5 s warm-up. Prints the CPU
# it used (% of one core) and its resident memory. Run it three times and
# take the median: see docs/PERFORMANCE.md, "An idle kiosk".
set -euo pipefail
bin=${1:-bin/waystation-kiosk-screen}
secs=${2:-20}
display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
dir=$(mktemp -d)
trap 'kill $xvfb 2>/dev/null; rm -rf "$dir"' EXIT
sleep 1
DISPLAY=$display WAYSTATION_TOKEN=wsd_idle "$bin" --controller http://127.0.0.1:9 --journal "$dir" \
	--window 1920x1080 --lang zh >/dev/null 2>&1 &
pid=$!
sleep 5
t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
sleep "$secs"
t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
echo "cpu $(( (t1 - t0) * 100 / $(getconf CLK_TCK) / secs ))% of a core, rss $((rss / 1024)) MiB"
kill "$pid"
wait "$pid" 2>/dev/null || true
