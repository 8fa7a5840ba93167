// Package hackrf drives a HackRF One through libhackrf (cgo, build tag hackrf): open by
// serial, list attached boards, tune, and stream complex64 samples in either direction,
// one at a time (the board is half duplex). It implements radio.Device; package
// radio/devices opens it for the device string "hackrf:SERIAL[,key=value...]".
//
// Samples: the board moves interleaved int8 I,Q over USB; a received value v becomes
// v/128 (so -128 is -1.0 and 127 is 0.9921875), and a transmitted sample x becomes
// round(128x), ties to even, saturated to -128..127 (sigmf's ci8 convention).
//
// Receive: libusb hands each filled transfer to a C callback that calls into Go through
// a cgo.Handle kept in the transfer's rx_ctx; the Go side only copies the bytes into a
// lock-free single-producer ring and returns. Read converts from the ring to complex64.
// When the ring is full the newest samples are dropped; each such run is one overrun,
// its length is added to Stats.Dropped, and the next Read reports it in RXMeta.Dropped
// with the sample counter advanced past the gap. Where the firmware offers them
// (USB API 0x0106 and later, hackrf_get_m0_state) its own shortfall counts are added to
// Stats.Overruns too; the firmware does not say how many samples a shortfall lost, so
// those do not move the sample counter.
//
// Transmit: Write quantises into a ring; the first transfer is submitted once four
// transfers' worth (libhackrf's queue depth) is buffered, or at Close, so a burst does
// not start with a gap. The TX callback never blocks: it copies what the ring holds; if
// the writer is late it sends zeros and counts an underrun. After Close it pads the last
// buffer with zeros, returns 0 for it and non-zero on the next call, libhackrf then sends
// its flush transfer (hackrf_enable_tx_flush), and Close waits for the flush callback
// before hackrf_stop_tx, so every written sample leaves the antenna port.
//
// Gains (dB), named as in the loopback simulator's hackrf preset so a configuration or a
// calibration profile works on either: lna 0-40 in 8 (hackrf_set_lna_gain), vga 0-62 in 2
// (hackrf_set_vga_gain), txvga 0-47 in 1 (hackrf_set_txvga_gain), and the RF amplifier
// amp (receive) and txamp (transmit), 0 or 14 (hackrf_set_amp_enable, applied when a
// stream of that direction starts). Sample rate 2-20 Msps (hackrf_set_sample_rate);
// below MinRecommendedRate the ADC's anti-alias filtering is inadequate and a warning is
// logged. The baseband filter is set after the rate, because setting the rate resets it
// (hackrf_compute_baseband_filter_bw, hackrf_set_baseband_filter_bandwidth).
//
// Device-string keys: antenna_power=on feeds 3.3 V to the antenna port (off unless
// asked); rxbuf and txbuf size the host rings in samples (SI suffixes allowed);
// watchdog sets, in seconds, how long a libhackrf call may take before it counts as hung.
//
// Errors carry libhackrf's names (hackrf_error_name); "not found" wraps radio.ErrNoDevice
// with what to check. Calls that can hang on a stalled USB link (hackrf_stop_rx,
// hackrf_stop_tx, hackrf_close, and every control request, which libhackrf sends without
// a timeout) run under a watchdog that turns a hang into ErrHang; the device is then
// unusable until it is replugged and the program restarted.
//
// Open, OpenSpec and List need the hackrf tag (cgo and libhackrf-dev). Everything else
// is plain Go and is built and tested in every build: the rings, the conversions, the
// device's state machine and its streams (against a simulated board that calls back as
// libusb does), the error table and the options.
package hackrf
