// Package safetensors reads and writes Hugging Face's safetensors format, so that
// m4sc's weights open in the usual Python tools and training checkpoints resume
// exactly.
//
// Format (github.com/huggingface/safetensors, "Format" in its README, and the
// reference implementation safetensors/src/tensor.rs): an unsigned 64-bit
// little-endian header length N, then N bytes of UTF-8 JSON, then the data buffer.
// The JSON is one object mapping each tensor name to
//
//	{"dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end]}
//
// with byte offsets relative to the first byte after the header, plus an optional
// "__metadata__" object of string values. Tensor data is row-major (C order) and
// little-endian. Together the tensors cover the buffer exactly: no gaps, no overlap,
// nothing after the last one.
//
// What Write produces, so equal input gives equal bytes:
//   - compact JSON, "__metadata__" first (keys sorted, left out when empty), then one
//     entry per tensor with its fields in the order dtype, shape, data_offsets;
//   - tensors laid out like the reference writer: widest dtype first (F64, F32, BF16,
//     F16), names in byte order within a dtype, so every tensor starts at a multiple
//     of its element size;
//   - the header padded with spaces to a multiple of 8 bytes, so the buffer starts
//     8-byte aligned.
//
// For files whose metadata has at most one key this is byte for byte what the
// reference writer's serialize emits (the tests check its own examples); with more
// keys only their order differs, which in the reference follows a hash map. Read
// returns tensors in the order of their data, so a file from Write reads back in
// Write's order.
//
// Element types. In memory every tensor is []float32 (Tensor.Data), except F64
// tensors, which use Tensor.Data64 []float64 so that gradient checks keep their
// precision. On disk:
//   - F64, F32: stored bit for bit, NaN payloads, signalling NaNs and -0 included.
//   - F16 (IEEE 754 binary16) and BF16 (the upper half of binary32): read exactly,
//     since every value is a float32; written with round-to-nearest, ties to even
//     (IEEE 754-2019 4.3.1), overflow to ±Inf, gradual underflow to subnormals and
//     ±0. A NaN keeps its sign and the top bits of its payload; if those bits are all
//     zero the lowest one is set so the result stays NaN. Signalling NaNs are not
//     quieted. Encoding a decoded value therefore gives back its 16-bit pattern, for
//     all 65536 patterns, so reading and rewriting a file changes no bits.
//
// Other dtypes (integers, bool, 8-bit floats) are reported as *UnsupportedError.
// Every other fault in a file is a *FormatError naming the tensor and field. Read
// checks all header numbers against the file size before allocating for them and
// accepts headers up to DefaultMaxHeaderSize (the reference limit, 100 MB) unless
// ReadOptions says otherwise.
//
// Entry points: Write and Read for streams, WriteFile (atomic) and ReadFile for
// paths, SaveCheckpoint and LoadCheckpoint for training state in one file.
//
// Not here: memory mapping, lazy or sliced loading of single tensors, sharded
// checkpoints (model.safetensors.index.json), dtypes other than the four above.
package safetensors
