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
package phy
