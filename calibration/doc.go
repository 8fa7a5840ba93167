// Package calibration measures what a pair of radios does wrong and writes a profile
// that later runs apply: the oscillator error between them in ppm, the receiver's DC
// offset and I/Q imbalance, the transmit and receive gains that give a clean level,
// and a summary of the channel. It works on any two radio.Devices, the loopback
// simulator or HackRFs alike, from the samples alone.
//
// Entry points: Run measures and returns a *Profile; Profile.Save and Load write and
// read it as YAML (Load refuses a malformed or out-of-range profile with a *FieldError
// naming the field); a Corrector, Profile.Correct or Profile.CorrectRX applies it to
// received samples, and Profile.ApplyGains configures a device with its gains.
//
// # Measurements
//
// All signals are sent at the IEEE 802.11a frame power (52/4096, -18.96 dBFS).
//
//   - Frequency error, transmitter relative to receiver, twice: the mean of the
//     receiver's carrier-offset estimates on the long training fields of many frames
//     (IEEE 802.11 clause 17.3.3; package phy), and the frequency of a CW tone at
//     rate/8 by the least-squares slope of its unwrapped phase (S. A. Tretter,
//     "Estimating the frequency of a noisy sinusoid by linear regression", IEEE
//     Trans. Inf. Theory 31(6), 1985; package radio/spectrum). The tone sent at
//     f0 arrives at f0 + (fc+f0)*ppm*1e-6, since one crystal per device drives both
//     carrier and sample clock; that also makes the sample-clock offset the same
//     figure. The applied value is their inverse-variance weighted mean.
//   - DC offset: the mean of idle samples at the chosen gains.
//   - I/Q imbalance, model Q' = g(Q cos phi - I sin phi), twice. The moment estimator
//     inverts the second moments of received noise, whose I and Q are uncorrelated
//     and of equal power before the mixer: g^2 = E[Q'^2]/E[I^2], sin phi =
//     -E[IQ']/sqrt(E[I^2]E[Q'^2]); the receive gain is raised for it until the noise
//     stands well above the converter's steps (NoiseTarget). The blind
//     mirror-subcarrier estimator compares, on every DATA symbol of 64-QAM frames,
//     each data subcarrier k with its mirror -k: the imbalance leaks the image of
//     subcarrier -k into k, so E[Y_k Y_-k] = K1 K2 (E|Z_k|^2 + E|Z_-k|^2) with K1 =
//     (1+g e^{-j phi})/2, K2 = (1-g e^{j phi})/2, while independent QAM data
//     contribute nothing to it (see mirrorMoments). Both rest on the properness
//     (circularity) of the signal before the mixer, as in L. Anttila, M. Valkama and
//     M. Renfors, "Circularity-based I/Q imbalance compensation in wideband
//     direct-conversion receivers", IEEE Trans. Veh. Technol. 57(4), 2008. The
//     estimate with the smaller standard errors is applied.
//   - Gains: a sweep of 64-QAM frames over transmit and receive gain, choosing the
//     best EVM without clipping at a mean level between HeadroomLow and HeadroomHigh
//     (see the runner's gains method for the search).
//   - Channel, on the frames corrected by everything above: the receiver's SNR, the
//     SNR of each subcarrier |H_k|^2/N0_k from the two long training symbols (their
//     mean estimates H, their difference N0), and the RMS delay spread from the
//     correlation of neighbouring subcarriers (see delaySpread).
//
// Every estimate carries a standard error, from the scatter of independent parts
// (frames, blocks of samples, segments of the tone) over the square root of their
// number.
//
// # Applying a profile
//
// The receiver's impairments are undone in the reverse of the order they arise: DC
// removed, I/Q imbalance inverted (Q = Q'/(g cos phi) + I tan phi), carrier offset
// derotated. The sample-clock offset is left to the receiver, which tracks it with its
// pilots; gains are applied by configuring the devices.
//
// What it is not: no transmitter-side correction (the simulator has no transmitter I/Q
// imbalance to correct), no frequency-dependent I/Q imbalance, no resampling.
package calibration
