// Package hwtests holds the tests that need real radios: two HackRF One boards joined by
// a cable with 30 to 60 dB of attenuation (see README.md for the bench). They are built
// only with the build tags hwtest and hackrf:
//
//	M4SC_HACKRF_TX=SERIAL M4SC_HACKRF_RX=SERIAL go test -tags 'hackrf hwtest' ./hwtests/ -v
//
// Each test skips, saying why, when a board it needs is not named or not attached.
// They cover the receive noise floor, a CW tone from one board seen by the other at
// the expected offset, 802.11a frames at every rate and semantic frames over the cable
// (PER, EVM, SNR), a gain sweep, and 60 s of streaming at 20 Msps with every lost
// sample counted.
//
// The package has no code of its own; without the tags it holds only this comment.
package hwtests
