// Package calibration measures what a pair of radios does wrong (oscillator error in
// ppm, DC offset, I/Q imbalance, gains, channel) and writes a profile later runs apply.
//
// Not built yet: this file holds the place in the layout (issue 6). It imports phy and
// radio only.
package calibration
