// Package sigmf reads and writes recordings of complex baseband (IQ) samples: SigMF
// recordings, a .sigmf-meta JSON file beside a .sigmf-data sample file as defined
// by the "SigMF specification v1.2.0" (sigmf.org), and the header-less raw files
// of hackrf_transfer (.cs8) and GNU Radio (.cf32, .cfile).
//
// What it is not: a complete SigMF toolkit. It handles single-channel complex
// datasets of type ci8, ci16_le and cf32_le; it does not read or write SigMF
// archives (.sigmf tar files), collections, non-conforming datasets
// (core:header_bytes, core:trailing_bytes, core:dataset) or other datatypes, and it
// refuses them with an *UnsupportedError rather than misread them. It does no
// DSP.
//
// Entry points: Open returns a Reader (Read, SeekSample, Len, Meta); Create returns a
// Writer (Write, Annotate, AddCapture, Flush, Close). ParseMeta and Meta.Encode
// handle the metadata alone. The format follows the file name: .sigmf-meta,
// .sigmf-data or a bare base name for SigMF, .cs8 for int8 and .cf32 or .cfile
// for float32; ReadOptions.Raw reads a file of any name as raw samples of a given
// datatype (hackrf_transfer's captures are often named .iq).
//
// # Scale
//
// In memory, samples are complex64 at full scale 1.0, the convention of the HackRF
// tools and of package radio:
//
//	ci8      int8 v    <-> v/128     (.cs8; -1.0 is -128, +1.0 clips to 127)
//	ci16_le  int16 v   <-> v/32768
//	cf32_le  float32   <-> unchanged (.cf32, .cfile)
//
// Writing ci8 and ci16_le rounds to the nearest step, ties to even, and clips at
// full scale; Writer.Clipped counts the clipped samples. Values already on the grid
// (v/128, v/32768) are written and read back bit for bit, and cf32_le is exact.
//
// # Validation
//
// Open checks what a reader needs to trust: required fields (core:datatype,
// core:version), a 1.x version, a positive sample rate, one channel, captures sorted
// and within the data, annotations within the data, a data file of whole samples
// and, when recorded, its SHA-512. Each failure is a *FormatError or
// *UnsupportedError naming the file and the field; ErrTruncated and ErrChecksum
// mark the two that callers may choose to tolerate (ReadOptions.AllowTruncated,
// SkipChecksum). Keys that this package does not model are kept in the Extra maps
// of Meta, Global, Capture and Annotation, so that a read-modify-write keeps them.
// Parsing never panics, and its memory use follows the size of the metadata
// (at most MaxMetaSize), never the numbers written in it.
//
// # Crash safety
//
// A recording appears whole or not at all, and two writers cannot mix theirs:
//
//   - Create takes a lock on the recording (flock(2) on a hidden ".NAME.lock"
//     file beside it); a second Create of the same recording fails with ErrBusy
//     until the first Writer is closed. With WriteOptions.Exclusive it refuses a
//     recording that exists.
//   - Samples go to a temporary file in the recording's directory: on Linux an
//     unnamed one (O_TMPFILE), which the kernel frees if the process dies;
//     elsewhere a hidden ".NAME.tmp*" file. They are handed to the operating
//     system BufferSize bytes at a time, always whole samples; Flush hands over
//     the rest.
//   - Close, which must be called even after an error (or Abort, which keeps
//     nothing), syncs the data, renames it into place, then writes the
//     .sigmf-meta the same way (a synced temporary file renamed over the old
//     one) with every capture and annotation and with core:sha512 (left out if
//     any write failed), and removes the lock file.
//
// If the process is killed (kill -9) before Close, the recording that was at the
// path, if any, is untouched and nothing of the new one remains, except, where
// files cannot be unnamed, its temporary file, and a lock file that stops no one
// (the kernel released the lock with the process) and that the next writer of
// the recording removes. A kill or crash between the two renames of Close leaves
// the new data with the old metadata (whose core:sha512 then fails) or, for a new
// recording, a data file without metadata. After a power failure only what the
// file system had made durable remains: everything up to the last completed
// Close.
package sigmf
