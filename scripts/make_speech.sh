#!/usr/bin/env bash
# Regenerates the committed test speech in src/cloudlink/media/speech/ with
# espeak-ng and sox: 16 kHz mono 16-bit WAV, two voices so that echo tests
# have a distinct far-end and near-end talker. Deterministic for one
# espeak-ng version; the committed files are what tests and the demo use.
set -euo pipefail
out=$(dirname "$0")/../src/cloudlink/media/speech
mkdir -p "$out"
say() {  # say NAME VOICE PITCH TEXT
  espeak-ng -v "$2" -p "$3" -s 150 -w "$out/$1.raw.wav" "$4"
  sox "$out/$1.raw.wav" -r 16000 -c 1 -b 16 "$out/$1.wav" gain -n -3
  rm "$out/$1.raw.wav"
}
say alice en-us 55 "Good morning everyone. Can you all hear me clearly? \
Let us start with the quarterly numbers, then move on to the product roadmap \
and the hiring plan for next year."
say bob en-gb+m3 35 "Yes, I can hear you well. The network in this office has \
been unreliable all week, so please tell me if my audio breaks up while I \
present the budget."
say carol en-us+f2 70 "Before we go on, could somebody share the slides? \
I joined from my phone and the video is frozen, although the sound is fine."
