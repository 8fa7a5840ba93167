#!/usr/bin/env bash
# sharing.sh [N]: the measured tables of sharing/RESULTS.md. Runs m4sc share for the eight
# tables (multicast, overlap 0.9, 0.5 and 0, text; AWGN and EPA; 8 users) and the two
# airtime-against-K runs (K = 1 to 32, EPA), N rounds each (default 25), two at a time,
# with the embedded model and codec of the m4sc built here. Each run's share.md goes to
# sharing/results/NAME.md with its command on top, the airtime plots to
# sharing/results/users-*.png; then the tables of sharing/RESULTS.md (the blocks between
# its begin and end markers) are rewritten from them. The prose around the tables is
# not: read the new figures and update it by hand. About 20 minutes on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
n=${1:-25}
. bench/lib.sh
build_m4sc
mkdir -p sharing/results
jobs=(
	"multicast-awgn --scenario multicast --users 8 --channel awgn"
	"multicast-epa --scenario multicast --users 8 --channel epa"
	"overlap0.9-awgn --scenario overlap --users 8 --overlap 0.9 --channel awgn"
	"overlap0.9-epa --scenario overlap --users 8 --overlap 0.9 --channel epa"
	"overlap0.5-awgn --scenario overlap --users 8 --overlap 0.5 --channel awgn"
	"overlap0.5-epa --scenario overlap --users 8 --overlap 0.5 --channel epa"
	"overlap0-awgn --scenario overlap --users 8 --overlap 0 --channel awgn"
	"overlap0-epa --scenario overlap --users 8 --overlap 0 --channel epa"
	"text-awgn --scenario text --users 8 --channel awgn"
	"text-epa --scenario text --users 8 --channel epa"
	"users-multicast-epa --scenario multicast --users 1,2,4,8,16,32 --channel epa"
	"users-overlap0.9-epa --scenario overlap --overlap 0.9 --users 1,2,4,8,16,32 --channel epa"
)
run() {
	local name=$1
	shift
	local t0 out
	t0=$(date +%s)
	out=$(mktemp -d)
	OPENBLAS_NUM_THREADS=1 "$bin" share "$@" --n "$n" --out "$out/run" >"$out/stdout" 2>"$out/log" || {
		cat "$out/log" >&2
		return 1
	}
	{
		printf '```\nm4sc share %s --n %s --out DIR\n```\n\n' "$*" "$n"
		# A run over several K: its table of K only (share.md goes on per K).
		sed '/^!\[airtime against K\]/,$d' "$out/run/share.md"
	} >"sharing/results/$name.md"
	if [ -f "$out/run/share-users.png" ]; then cp "$out/run/share-users.png" "sharing/results/$name.png"; fi
	rm -rf "$out"
	echo "$name: $(($(date +%s) - t0)) s"
}
export -f run
export bin n
printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} bash -c 'set -euo pipefail; run {}'
splice sharing/RESULTS.md
echo "sharing/RESULTS.md: tables rewritten from sharing/results; check the prose by hand"
