// Package loopback simulates the air between radios, and the radios' own flaws, so
// that everything m4sc does over a HackRF can be tested in-process and
// deterministically: one transmitter, any number of receivers, each hearing the
// transmitter through its own Channel.
//
// Channel models, in the order the signal meets them (see Channel for the details and
// ChannelConfig for units):
//
//   - multipath: 3GPP TR 38.901 TDL-A..TDL-E scaled by a delay spread, and the LTE
//     EPA/EVA/ETU profiles of TS 36.101 Annex B.2, with fractional delays by
//     band-limited (windowed sinc) interpolation and Rayleigh or Rician taps fading with
//     a Jakes Doppler spectrum (sum of sinusoids, Clarke's model);
//   - oscillator error in ppm per device: one crystal drives both carrier and sample
//     clock, so a pair of devices has a carrier offset of fc*(eTx-eRx) and a sample
//     clock ratio of (1+eTx)/(1+eRx), applied by a 24-tap Kaiser-windowed sinc
//     interpolator;
//   - Wiener phase noise of a given 3 dB linewidth;
//   - additive white Gaussian noise. SNR is defined once for the whole project: mean
//     signal power over noise power in the full sample bandwidth. The signal power it
//     refers to is a reference (DefaultRefPower, the mean power of an 802.11a frame at
//     the standard's amplitude, -18.96 dBFS), so the noise floor stays put between
//     bursts as on real hardware;
//   - receiver I/Q gain and phase imbalance (Q' = g(Q cos phi - I sin phi)), DC offset;
//   - ADC quantisation with clipping at full scale (HackRF: 8 bits, scale 1/128);
//   - lost buffers (gaps of a given length at a given rate), a random start offset,
//     and idle noise before and between bursts.
//
// A device string sets each of them ("loopback:hackrf,ppm=12.5,snr=25,channel=epa");
// Keys lists them. The hackrf preset gives typical values for two HackRF One joined
// by a cable with an attenuator.
//
// Everything random comes from seeded generators; equal seeds and equal calls give
// equal samples, however reads are cut. Hand-written parts, and why: the Gaussian
// generator (see normal: math/rand/v2 costs twice as much per draw) and the FIR
// kernel (no Go library filters complex64 with SIMD).
//
// Speed, one core of the reference machine (BenchmarkChannel, BenchmarkLoopbackDevice):
// the channel alone with the hackrf preset and EPA fading 51 Msps; the whole device path
// (transmit stream, air, channel, receive stream) 46 Msps; AWGN alone 172 Msps.
//
// Not modelled: the receiver's baseband filter (Bandwidth is accepted and recorded),
// transmitter I/Q imbalance, non-linearity, and resampling between different nominal
// rates.
package loopback
