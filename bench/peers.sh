#!/usr/bin/env bash
# Runs both peer comparisons of the PHY on this machine: the Viterbi decoder against
# libfec's viterbi27 and the receiver against liquid-dsp's ofdmflexframesync. Each
# script installs its Debian package, builds its C program in a temporary directory,
# runs our Go benchmark in the same session and prints the ratio.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/viterbi_peer.sh" "$@"
echo
"$here/ofdm_peer.sh" "$@"
