#!/usr/bin/env bash
# sweeps.sh [N]: the SNR sweeps of semantic/RESULTS.md, each into semantic/results as
# NAME.csv, NAME.md (with its command) and NAME.png, N held-out items a point (default 100), two at a
# time. Needs the data sets (m4sc data fetch) and uses the embedded model and codec of
# the m4sc built here (with the openblas tag when libopenblas-dev is installed). Then the
# tables of semantic/RESULTS.md (the blocks between its begin and end markers) are
# rewritten from the new files; the prose around them is updated by hand.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
n=${1:-100}
. bench/lib.sh
build_m4sc
common="--snr -5:25:5 --schemes semantic,digital,80211a --bandwidth 4,8,16 --rate 12 --n $n --force"
jobs=(
	"awgn-text --task text.transmit --channel awgn"
	"epa-text --task text.transmit --channel epa --doppler 5"
	"tdlc-text --task text.transmit --channel tdl-c"
	"hackrf-text --task text.transmit --channel hackrf"
	"awgn-caption --task image.caption --channel awgn"
	"awgn-vqa --task image.vqa --channel awgn"
	"awgn-classify --task image.classify --channel awgn"
	"awgn-reconstruct --task image.reconstruct --channel awgn"
)
run() {
	local name=$1
	shift
	local t0=$(date +%s)
	local out
	out=$(mktemp -d)
	OPENBLAS_NUM_THREADS=1 "$bin" sweep "$@" $common --out "$out" >/dev/null 2>"$out/log" || { cat "$out/log" >&2; return 1; }
	for ext in csv md png; do mv "$out/sweep.$ext" "semantic/results/$name.$ext"; done
	rm -rf "$out"
	echo "$name: $(($(date +%s) - t0)) s"
}
export -f run
export bin common
printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} bash -c 'set -euo pipefail; run {}'
splice semantic/RESULTS.md
echo "semantic/RESULTS.md: tables rewritten from semantic/results; check the prose by hand"
