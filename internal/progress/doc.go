// Package progress shows how far a long command has got, on the command's
// stderr: a bar redrawn in place on a terminal, and plain lines elsewhere.
//
// A bar is drawn with carriage returns, which a terminal turns into one line
// that moves; in a log file or a pipe (m4sc calibrate ... 2>log) they are
// hundreds of frames on one endless line. So when the writer is not a terminal,
// a Bar writes a line each time a further tenth of the work is done, and at
// most every LogInterval in between when the work is slow, then a closing line:
//
//	rx: 30% (6000000/20000000) after 2.1s
//	calibrate: tone 80% after 6.2s
//	calibrate: done after 7.0s
//
// It is not the training display (internal/trainlog.Progress shows loss and
// ETA for hours-long stages). Main entry point: New.
package progress
