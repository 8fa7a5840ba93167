// Package phy is m4sc's OFDM physical layer: a bit-exact IEEE 802.11a transceiver
// (IEEE Std 802.11-2020 clause 17, formerly 802.11a-1999 clause 17) whose receiver finds
// and decodes frames from samples alone, and the semantic frame, which carries analog
// semantic symbols with the same preamble and numerology.
//
// Entry points: NewTransmitter, then Transmitter.Packet (802.11a) or Semantic and
// SemanticDigital (semantic frames), appending samples to a slice; NewReceiver, then
// Receiver.Receive on samples in chunks of any size and Receiver.Flush at the end of a
// stream, appending the frames found. The blocks they are made of (scrambler,
// convolutional code and Viterbi decoder, interleaver, mapper and demapper, OFDM
// modulator, 64-point FFT) are exported for tests and for building other frames.
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
// Receiver is a state machine (ReceiverState: seek, long training, signal, header,
// payload, as liquid-dsp's ofdmframesync) fed with samples in any chunks; Reset returns
// it to the start. It detects the L-STF by its lag-16 autocorrelation, refusing DC and
// CW, which correlate at lag 8 too; estimates the carrier offset coarsely on the STF and
// finely on the two long symbols (range +-625 kHz); finds the long symbols by
// cross-correlation; estimates the channel by least squares, smoothed over neighbouring
// subcarriers, and the noise from the difference of the two long symbols; decodes
// SIGNAL; then FFTs every DATA symbol, fits the pilots' phase (locally smoothed) and
// sample-clock slope (a straight line over the frame), demaps with each subcarrier's
// SNR as weight, deinterleaves, depunctures and decodes with a soft Viterbi decoder
// (AVX2 with a portable fallback). Every detected frame is reported, decoded or with the
// reason it failed (Frame.Err); Flush decodes a frame that ends on the stream's last
// sample.
//
// # Semantic frame
//
// See semantic.go: the legacy preamble and a 6 Mbit/s SIGNAL whose LENGTH covers the
// frame, an m4sc header in QBPSK (rate 1/2, each coded bit on two subcarriers, CRC),
// then analog symbols or octets. The receiver returns the equalised symbols and each
// data subcarrier's SNR for the semantic decoder to weigh.
//
// # Results
//
// Packet error rates over AWGN, TDL-C and EPA, and the speed of the receiver,
// transmitter and Viterbi decoder against liquid-dsp and libfec, are in phy/RESULTS.md
// with the commands that reproduce them.
//
// # What it is not
//
// phy is DSP on sample slices and nothing else: it opens no radio and imports nothing
// from package radio (TestImportsNoRadio keeps it so); transmitting and receiving
// through devices is radio/burst's, measuring packet error rates phy/per's. It does
// not correct a radio's impairments beyond what a frame's preamble and pilots allow
// (package calibration does), has no MAC (no acknowledgements, retries or medium
// access), implements neither 802.11n/ac rates nor 40 MHz channels, and knows nothing
// of what a semantic payload means (package semantic does).
package phy
