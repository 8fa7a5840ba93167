// Package phy is m4sc's OFDM physical layer: a bit-exact IEEE 802.11a transceiver
// (IEEE Std 802.11-2020 clause 17, formerly 802.11a-1999 clause 17) whose receiver finds
// and decodes frames from samples alone, and the semantic frame, which carries analog
// semantic symbols with the same preamble and numerology.
//
// Numerology (clause 17.3.2): 20 Msps, 64-point FFT, 16-sample cyclic prefix, 52 used
// subcarriers of which 48 carry data and 4 (-21, -7, 7, 21) carry pilots. Subcarrier k
// (-32..31) maps to FFT bin (k+64)%64. Time samples are the inverse DFT scaled by 1/64,
// the standard's amplitude (an 802.11a frame then has mean power 52/4096, -18.96 dBFS).
//
// Conventions: bits are []uint8 holding 0 or 1, transmitted in slice order; octets go
// out least significant bit first (clause 17.3.5.2). Soft bits are float32
// log-likelihood ratios log(P(b=0)/P(b=1)): positive means 0, zero means unknown
// (punctured or erased).
//
// # Receiver
//
// Receiver is a state machine fed with samples in any chunks. It detects the L-STF by
// its lag-16 autocorrelation, refusing DC and CW, which correlate at lag 8 too;
// estimates the carrier offset coarsely on the STF and finely on the two long symbols
// (range +-625 kHz); finds the long symbols by cross-correlation; estimates the channel
// by least squares, smoothed over neighbouring subcarriers, and the noise from the
// difference of the two long symbols; decodes SIGNAL; then FFTs every DATA symbol,
// fits the pilots' phase (locally smoothed) and sample-clock slope (a straight line over
// the frame), demaps with each subcarrier's SNR as weight, deinterleaves, depunctures
// and decodes with a soft Viterbi decoder (AVX2 with a portable fallback). Every detected
// frame is reported, decoded or with the reason it failed (Frame.Err).
//
// Speed, one core of the reference machine: the receiver on a stream of 24 Mbit/s
// 1000-octet frames at 50% duty cycle runs at 52.7 Msps (29.6 Mbit/s decoded), on
// semantic frames at 76.6 Msps (liquid-dsp's ofdmflexframesync on frames of the same
// payload length: 38.9 Msps); the transmitter at 151 Msps (24 Mbit/s); the Viterbi
// decoder at 231 Mbit/s (libfec's viterbi27: 18.2). See bench/.
//
// # Semantic frame
//
// See semantic.go: the legacy preamble and a 6 Mbit/s SIGNAL whose LENGTH covers the
// frame, an m4sc header in QBPSK (rate 1/2, each coded bit on two subcarriers, CRC),
// then analog symbols or octets. The receiver returns the equalised symbols and each
// data subcarrier's SNR for the semantic decoder to weigh.
//
// # Link quality
//
// Produced by `m4sc phy per` (TX -> loopback:hackrf -> RX with the receiver above, from
// samples alone), 1000-octet PSDUs, 1000 frames per point, seed 1. SNR is the project's:
// signal over noise power in the full 20 MHz band, of the thermal noise the simulator
// adds; the hackrf preset's 8-bit converters, I/Q imbalance, DC offset, phase noise,
// and oscillator errors come on top.
//
// AWGN (`m4sc phy per --snr 0:24:1 --frames 1000`). The bounds for PER <= 10%:
// 6 Mbit/s at 3 dB, 9 at 5, 12 at 6, 18 at 8.5, 24 at 11, 36 at 15, 48 at 19, 54 at 21;
// each holds with 1 to 2 dB to spare (first point at or below 10%: 2, 3, 4, 7, 10, 13,
// 18, 19 dB):
//
//	PER of 1000-octet PSDUs, 1000 frames per point, loopback:hackrf -> loopback:hackrf
//	  SNR dB  6 Mbit/s  9 Mbit/s  12 Mbit/s  18 Mbit/s  24 Mbit/s  36 Mbit/s  48 Mbit/s  54 Mbit/s
//	       0    0.8070    1.0000     1.0000     1.0000     1.0000     1.0000     1.0000     1.0000
//	       1    0.2610    1.0000     1.0000     1.0000     1.0000     1.0000     1.0000     1.0000
//	       2    0.0250    0.6170     0.9930     1.0000     1.0000     1.0000     1.0000     1.0000
//	       3    0.0030    0.0460     0.4840     1.0000     1.0000     1.0000     1.0000     1.0000
//	       4    0.0000    0.0020     0.0610     1.0000     1.0000     1.0000     1.0000     1.0000
//	       5    0.0000    0.0000     0.0010     0.8380     1.0000     1.0000     1.0000     1.0000
//	       6    0.0000    0.0000     0.0000     0.1730     1.0000     1.0000     1.0000     1.0000
//	       7    0.0000    0.0000     0.0000     0.0120     1.0000     1.0000     1.0000     1.0000
//	       8    0.0000    0.0000     0.0000     0.0000     0.7150     1.0000     1.0000     1.0000
//	       9    0.0000    0.0000     0.0000     0.0000     0.1570     1.0000     1.0000     1.0000
//	      10    0.0000    0.0000     0.0000     0.0000     0.0160     1.0000     1.0000     1.0000
//	      11    0.0000    0.0000     0.0000     0.0000     0.0010     0.9460     1.0000     1.0000
//	      12    0.0000    0.0000     0.0000     0.0000     0.0000     0.3440     1.0000     1.0000
//	      13    0.0000    0.0000     0.0000     0.0000     0.0000     0.0350     1.0000     1.0000
//	      14    0.0000    0.0000     0.0000     0.0000     0.0000     0.0010     1.0000     1.0000
//	      15    0.0000    0.0000     0.0000     0.0000     0.0000     0.0000     0.9380     1.0000
//	      16    0.0000    0.0000     0.0000     0.0000     0.0000     0.0000     0.5010     1.0000
//	      17    0.0000    0.0000     0.0000     0.0000     0.0000     0.0000     0.1410     0.8140
//	      18    0.0000    0.0000     0.0000     0.0000     0.0000     0.0000     0.0340     0.3230
//	      19    0.0000    0.0000     0.0000     0.0000     0.0000     0.0000     0.0040     0.0610
//	      20    0.0000    0.0000     0.0000     0.0000     0.0000     0.0000     0.0000     0.0060
//	      21    0.0000    0.0000     0.0000     0.0000     0.0000     0.0000     0.0000     0.0010
//	      22    0.0000    0.0000     0.0000     0.0000     0.0000     0.0000     0.0000     0.0010
//	      23    0.0000    0.0000     0.0000     0.0000     0.0000     0.0000     0.0000     0.0000
//	      24    0.0000    0.0000     0.0000     0.0000     0.0000     0.0000     0.0000     0.0000
//
// TDL-C, 100 ns delay spread, 5 Hz Doppler, a carrier offset of 100 kHz (receiver
// crystal -40.8 ppm at 2.45 GHz, which also makes a 40.8 ppm sample-clock offset), an
// independent channel realisation per frame (`m4sc phy per --realisations --snr 0:40:2
// --tx loopback:hackrf,ppm=0 --rx loopback:hackrf,ppm=-40.816,channel=tdl-c,ds=100,doppler=5`).
// PER 10% needs 6 to 9 dB more than AWGN at 6-36 Mbit/s; at 100 ns TDL-C's longest taps
// (865 ns) exceed the 800 ns guard interval, and the resulting inter-symbol interference
// leaves a floor of about 0.5% at low rates and 6% (48 Mbit/s) to 19% (54 Mbit/s) at high
// SNR:
//
//	PER of 1000-octet PSDUs, 1000 frames per point, loopback:hackrf,ppm=0 -> loopback:hackrf,ppm=-40.816,channel=tdl-c,ds=100,doppler=5
//	  SNR dB  6 Mbit/s  9 Mbit/s  12 Mbit/s  18 Mbit/s  24 Mbit/s  36 Mbit/s  48 Mbit/s  54 Mbit/s
//	       0    0.7950    0.9710     0.9780     0.9990     1.0000     1.0000     1.0000     1.0000
//	       2    0.5630    0.9040     0.8700     0.9920     1.0000     1.0000     1.0000     1.0000
//	       4    0.3280    0.7320     0.6880     0.9400     0.9920     1.0000     1.0000     1.0000
//	       6    0.1530    0.5370     0.4180     0.8150     0.9610     0.9990     1.0000     1.0000
//	       8    0.0540    0.3260     0.2160     0.6530     0.8480     0.9950     1.0000     1.0000
//	      10    0.0170    0.1800     0.0910     0.4320     0.6160     0.9560     0.9990     1.0000
//	      12    0.0050    0.0800     0.0320     0.2550     0.3650     0.8570     0.9920     0.9990
//	      14    0.0050    0.0320     0.0110     0.1370     0.1900     0.6950     0.9560     0.9940
//	      16    0.0060    0.0150     0.0040     0.0470     0.0960     0.5010     0.8610     0.9610
//	      18    0.0060    0.0070     0.0040     0.0200     0.0290     0.3130     0.6910     0.8810
//	      20    0.0050    0.0060     0.0040     0.0070     0.0140     0.1900     0.5000     0.7580
//	      22    0.0050    0.0060     0.0040     0.0050     0.0070     0.1040     0.3320     0.5940
//	      24    0.0050    0.0060     0.0040     0.0030     0.0070     0.0580     0.2340     0.4630
//	      26    0.0050    0.0060     0.0030     0.0040     0.0040     0.0290     0.1700     0.3560
//	      28    0.0050    0.0060     0.0040     0.0030     0.0050     0.0210     0.1230     0.3020
//	      30    0.0040    0.0060     0.0040     0.0030     0.0030     0.0130     0.1040     0.2520
//	      32    0.0040    0.0060     0.0040     0.0030     0.0050     0.0090     0.0870     0.2180
//	      34    0.0080    0.0080     0.0040     0.0060     0.0050     0.0090     0.0770     0.2040
//	      36    0.0080    0.0080     0.0040     0.0030     0.0050     0.0090     0.0740     0.2060
//	      38    0.0050    0.0060     0.0030     0.0030     0.0040     0.0080     0.0650     0.1900
//	      40    0.0050    0.0060     0.0040     0.0030     0.0040     0.0070     0.0640     0.1850
//
// EPA (LTE extended pedestrian A, 5 Hz Doppler), with the same carrier and clock offset
// and one realisation per frame (`--rx loopback:hackrf,ppm=-40.816,channel=epa`): PER
// 10% needs about 6 dB more than AWGN at 6-24 Mbit/s and 11 dB more at 54 Mbit/s, where
// a floor of about 3% remains:
//
//	PER of 1000-octet PSDUs, 1000 frames per point, loopback:hackrf,ppm=0 -> loopback:hackrf,ppm=-40.816,channel=epa
//	  SNR dB  6 Mbit/s  9 Mbit/s  12 Mbit/s  18 Mbit/s  24 Mbit/s  36 Mbit/s  48 Mbit/s  54 Mbit/s
//	       0    0.8110    0.9770     0.9810     1.0000     1.0000     1.0000     1.0000     1.0000
//	       2    0.5710    0.8960     0.8900     0.9940     1.0000     1.0000     1.0000     1.0000
//	       4    0.3250    0.7160     0.6750     0.9570     0.9970     1.0000     1.0000     1.0000
//	       6    0.1520    0.5130     0.4160     0.8370     0.9730     0.9990     1.0000     1.0000
//	       8    0.0590    0.2920     0.2280     0.6310     0.8590     0.9940     1.0000     1.0000
//	      10    0.0270    0.1630     0.1020     0.4270     0.6220     0.9670     1.0000     1.0000
//	      12    0.0090    0.0710     0.0440     0.2380     0.3780     0.8750     0.9870     1.0000
//	      14    0.0050    0.0340     0.0150     0.1190     0.1970     0.6920     0.9460     0.9890
//	      16    0.0010    0.0150     0.0070     0.0590     0.0860     0.4350     0.8250     0.9400
//	      18    0.0000    0.0060     0.0010     0.0220     0.0330     0.2650     0.6070     0.8110
//	      20    0.0000    0.0020     0.0000     0.0090     0.0110     0.1460     0.3760     0.6340
//	      22    0.0000    0.0010     0.0000     0.0010     0.0030     0.0740     0.2200     0.4550
//	      24    0.0000    0.0010     0.0000     0.0000     0.0030     0.0330     0.1270     0.2990
//	      26    0.0000    0.0010     0.0000     0.0000     0.0000     0.0160     0.0710     0.1970
//	      28    0.0000    0.0000     0.0000     0.0000     0.0000     0.0090     0.0380     0.1340
//	      30    0.0000    0.0000     0.0000     0.0000     0.0000     0.0060     0.0170     0.0940
//	      32    0.0000    0.0000     0.0000     0.0000     0.0000     0.0020     0.0110     0.0620
//	      34    0.0040    0.0020     0.0000     0.0010     0.0030     0.0030     0.0050     0.0540
//	      36    0.0010    0.0000     0.0010     0.0010     0.0000     0.0020     0.0050     0.0420
//	      38    0.0000    0.0000     0.0000     0.0000     0.0000     0.0000     0.0040     0.0350
//	      40    0.0000    0.0000     0.0000     0.0000     0.0000     0.0010     0.0040     0.0320
package phy
