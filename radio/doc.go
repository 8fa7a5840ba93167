// Package radio is m4sc's boundary to the air: the Device interface through which every
// part of the system sends and receives complex baseband samples, whatever stands behind
// it (the loopback simulator, a recording, a HackRF).
//
// Samples are complex64 at full scale 1.0: a receiver's analogue-to-digital converter
// saturates where |I| or |Q| reaches 1, and a transmitter's DAC clips there. HackRF's
// interleaved int8 I,Q map to this scale by v/128.
//
// A device is named by a string, "driver[:argument][,key=value...]", for example
// "loopback", "loopback:hackrf,ppm=12.5,snr=25,channel=epa", "file:capture.sigmf-meta" or
// "hackrf:0000000000000000457863c82a2a3f1f". ParseSpec splits such a string; package
// radio/devices opens it.
//
// Configuration is checked as a whole against the device's Info (ranges and steps of
// rate, frequency, bandwidth and every named gain) before any setting reaches hardware,
// so a bad value never leaves a device half configured.
//
// Streams: StartRX and StartTX return streams that move samples through caller buffers.
// Every received buffer carries a sample-counter timestamp (RXMeta.Time) in the device's
// own clock and the number of samples known to be lost just before it. Counters of
// overruns, underruns and dropped samples are kept in Stats and never reset silently.
// Half-duplex devices (HackRF) refuse to start one direction while the other runs and say
// so with ErrHalfDuplex. WatchRX puts a watchdog on a device's receive streams: one that
// delivers nothing for a time (DefaultStallTimeout) ends with a *StallError (ErrStalled)
// rather than block its reader for good.
//
// Signal-to-noise ratio is defined once for the whole project: the mean power of the
// received signal over the noise power in the full sample bandwidth (not per
// subcarrier, not Eb/N0). Everything that reports or sets an SNR, the loopback
// simulator included, means this.
//
// What it is not: no DSP beyond moving samples (see package phy), no resampling between
// rates, and no global registry of drivers.
package radio
