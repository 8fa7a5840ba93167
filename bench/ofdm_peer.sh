#!/usr/bin/env bash
# Peer comparison for the OFDM receiver (issue 4, point 5): liquid-dsp's
# ofdmflexframesync from Debian's libliquid-dev against phy.Receiver on semantic frames,
# on the same machine, one core each, the same kind of stream: 32 frames at 50% duty
# cycle (an idle gap as long as each frame before it), complex white Gaussian noise over
# the whole stream 20 dB below the frames' mean power, fed in chunks of 16384 samples.
#
# Usage: bench/ofdm_peer.sh [seconds per measurement, default 2]
#
# Installs gcc and libliquid-dev with apt-get when they are missing (as root, on
# Debian). The C helper (bench/ofdm_peer.c) and the phy test binary are built in a
# temporary directory that is removed on exit. The two receivers are measured
# alternately, three rounds, and the best rate of each is reported (on a shared machine
# other load only ever slows a run down).
#
# What is timed:
#   - liquid: ofdmflexframesync_execute over the stream, repeated for the given time;
#     frames from ofdmflexframegen, M = 64, cyclic prefix 16, taper 4, default subcarrier
#     allocation (44 data, 6 pilots), payload 1000 octets + CRC-32, QPSK, no FEC: 92
#     payload OFDM symbols. Its callback checks the CRC and compares the payload.
#   - ours: BenchmarkReceiverSemantic, phy.Receiver on semantic frames (L-STF, L-LTF,
#     SIGNAL, 8-symbol m4sc header, 48*92 analog payload symbols: 92 payload OFDM
#     symbols), every frame's header and payload error checked. GOMAXPROCS 1.
#   - for context: BenchmarkReceiver24Mbps (802.11a, 1000-octet PSDUs, 30 dB SNR, every
#     FCS checked) and BenchmarkTransmitterPacket/24Mbps.
# bench/README.md says what the comparison is fair about and where it is not.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-2}
rounds=3

. bench/lib.sh
install_peer libliquid-dev
make_tmp
gcc -O2 -Wall -Ibench -o "$tmp/ofdm_peer" bench/ofdm_peer.c -lliquid -lm
go test -c -o "$tmp/phy.test" ./phy

machine libliquid-dev
for r in $(seq "$rounds"); do
	echo "== round $r"
	"$tmp/ofdm_peer" 1000 "$secs" 20 | tee -a "$tmp/peer.txt"
	for pat in '^(BenchmarkReceiverSemantic|BenchmarkReceiver24Mbps)$' '^BenchmarkTransmitterPacket$/^24Mbps$'; do
		(cd phy && "$tmp/phy.test" -test.run '^$' -test.cpu 1 -test.benchtime "${secs}s" -test.bench "$pat") |
			grep '^Benchmark' | tee -a "$tmp/ours.txt"
	done
done

# field KEY: the values of KEY=... on the peer's lines.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$tmp/peer.txt"; }
# metric NAME UNIT: the highest value of UNIT on benchmark NAME's lines.
metric() {
	awk -v n="$1" -v u="$2" '$1 == n {for (i = 1; i < NF; i++) if ($(i+1) == u) print $i}' "$tmp/ours.txt" |
		sort -g | tail -1
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

want=$(sed -n 's/^\tbenchSemanticSymbols *= *\([0-9]*\).*/\1/p' phy/rx_bench_test.go)
got=$(field payload_symbols | tail -1)
if [ "$want" != "$got" ]; then
	echo "warning: liquid's payload takes $got OFDM symbols, the Go benchmark's $want" >&2
fi
total=$(field frames_ok | awk -F/ '{ok += $1; n += $2} END {print ok "/" n}')
if [ "${total%/*}" != "${total#*/}" ]; then
	echo "warning: liquid decoded only $total frames: its rate is not comparable" >&2
fi

l_msps=$(field msps | sort -g | tail -1)
l_fps=$(field frames_per_s | sort -g | tail -1)
s_msps=$(metric BenchmarkReceiverSemantic Msps)
s_fps=$(metric BenchmarkReceiverSemantic frames/s)
w_msps=$(metric BenchmarkReceiver24Mbps Msps)
w_mbps=$(metric BenchmarkReceiver24Mbps Mbit/s)
t_msps=$(metric BenchmarkTransmitterPacket/24Mbps Msps)

echo "== best of $rounds (one core; stream Msps counts frames and idle gaps)"
printf '%-44s %7.2f Msps %7.0f frames/s   (frames decoded: %s, %s-sample frames)\n' \
	"liquid ofdmflexframesync (QPSK, 1000 octets)" "$l_msps" "$l_fps" "$total" "$(field frame_samples | tail -1)"
printf '%-44s %7.2f Msps %7.0f frames/s   ratio ours/liquid: %s (Msps), %s (frames/s)\n' \
	"phy.Receiver, semantic (48*$want symbols)" "$s_msps" "$s_fps" "$(ratio "$s_msps" "$l_msps")" "$(ratio "$s_fps" "$l_fps")"
printf '%-44s %7.2f Msps %7.2f Mbit/s decoded (target 40 Msps)\n' "phy.Receiver, 802.11a 24 Mbit/s" "$w_msps" "$w_mbps"
printf '%-44s %7.2f Msps\n' "phy.Transmitter, 802.11a 24 Mbit/s" "$t_msps"
