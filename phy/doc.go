// Package phy is m4sc's OFDM physical layer: a bit-exact IEEE 802.11a (clause 17)
// transceiver whose receiver synchronises from samples alone, and the semantic frame that
// carries analog semantic symbols on the same numerology.
//
// Not built yet: this file holds the place in the layout (issue 4). It imports only
// package radio.
package phy
