#!/usr/bin/env bash
# Peer comparison for the Viterbi decoder (issue 4, point 5): Phil Karn's libfec
# viterbi27 from Debian's libfec-dev against phy.Viterbi, on the same machine and the
# same block: 8000 data bits (1000 octets) plus the 6-bit tail of the 802.11a K=7
# rate-1/2 code, BPSK over AWGN at Eb/N0 4 dB, soft input.
#
# Usage: bench/viterbi_peer.sh [seconds per measurement, default 2]
#
# Installs gcc and libfec-dev with apt-get when they are missing (as root, on Debian).
# The C helper (bench/viterbi_peer.c) is built in a temporary directory that is removed
# on exit. The two decoders are measured alternately, three rounds, and the best rate of
# each is reported (on a shared machine other load only ever slows a run down).
#
# What is timed:
#   - libfec: create once, then init + update_viterbi27_blk + chainback per block, from
#     unsigned char soft symbols. Debian builds libfec for amd64 with its portable C
#     decoder only (no SSE2 kernel is compiled in; mode=1 below is PORT).
#   - ours: BenchmarkViterbi/r1_2, one Decode per block from float32 LLRs, which includes
#     scaling and quantising the LLRs and the trace back; the AVX2 kernel where the CPU
#     has it. BenchmarkViterbi/r1_2-go forces the portable Go kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-2}
rounds=3

. bench/lib.sh
install_peer libfec-dev
make_tmp
gcc -O2 -Wall -Ibench -o "$tmp/viterbi_peer" bench/viterbi_peer.c -lfec -lm
go test -c -o "$tmp/phy.test" ./phy

machine libfec-dev
for r in $(seq "$rounds"); do
	echo "== round $r"
	"$tmp/viterbi_peer" 8000 "$secs" | tee -a "$tmp/peer.txt"
	"$tmp/phy.test" -test.run '^$' -test.bench '^BenchmarkViterbi$/^r1_2' -test.benchtime "${secs}s" |
		grep '^Benchmark' | tee -a "$tmp/ours.txt"
done

# best NAME: the highest Mbit/s of sub-benchmark NAME over the rounds.
best() {
	grep "^BenchmarkViterbi/$1-[0-9]* " "$tmp/ours.txt" |
		awk '{for (i = 1; i < NF; i++) if ($(i+1) == "Mbit/s") print $i}' | sort -g | tail -1
}
peer=$(sed -n 's/.*mbps=\([0-9.]*\).*/\1/p' "$tmp/peer.txt" | sort -g | tail -1)
peer_err=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' "$tmp/peer.txt" | sort -g | tail -1)
ours=$(best r1_2)
ours_go=$(best r1_2-go)
if [ -z "$ours" ]; then # no assembly kernel on this CPU: that sub-benchmark is skipped
	ours=$ours_go
fi

echo "== best of $rounds (decoded Mbit/s, 8000-bit blocks, rate 1/2)"
printf '%-32s %9.2f   (bit errors in its last block: %s)\n' "libfec viterbi27" "$peer" "$peer_err"
printf '%-32s %9.2f   ratio to libfec %.2f\n' "phy.Viterbi (selected kernel)" "$ours" \
	"$(awk -v a="$ours" -v b="$peer" 'BEGIN {print a / b}')"
printf '%-32s %9.2f   ratio to libfec %.2f\n' "phy.Viterbi (portable Go)" "$ours_go" \
	"$(awk -v a="$ours_go" -v b="$peer" 'BEGIN {print a / b}')"
