#!/bin/sh
# Regenerates content/music/testdata: half a second of 440 Hz in each
# format the player decodes, at different rates and channel counts so the
# resampler is exercised. Needs sox and libsox-fmt-mp3 (Debian).
set -eu
cd "$(dirname "$0")/../content/music/testdata"
sox -n -r 22050 -c 1 -b 16 tone-440.wav synth 0.5 sine 440 gain -6
sox -n -r 48000 -c 2 -b 16 tone-440.flac synth 0.5 sine 440 gain -6
sox -n -r 44100 -c 1 -C 32 tone-440.mp3 synth 0.5 sine 440 gain -6
sox -n -r 32000 -c 1 -C 0 tone-440.ogg synth 0.5 sine 440 gain -6
