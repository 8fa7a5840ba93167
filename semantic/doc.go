// Package semantic is where the models meet the radio: the channel codec that maps a
// language model's semantic vectors (package llm) onto OFDM subcarriers (package phy),
// its training with the channel in the loop, the send and receive chain, and the
// evaluation of every task.
//
// # Channel codec
//
// Codec holds, for each bandwidth of Bandwidths (4, 8 or 16 complex symbols per
// 32-real semantic vector; for an image's 16 vectors, 1/48, 1/24 or 1/12 complex symbol
// per real pixel value), an encoder network from a vector, the SNR the transmitter
// expects and the modality to k complex symbols of unit mean power, and a decoder
// network from the k equalised symbols, each shrunk by rho/(1+rho) with rho its
// subcarrier's SNR as phy.Frame.SubcarrierSNR reports it, and ln(1+rho) back to a
// vector. The networks are two B-spline KAN layers (package kan); ArchMLP gives dense
// layers of about the same size, the ablation. Placement spreads each vector's symbols
// evenly across the 48 data subcarriers, so a fade costs many vectors a symbol each.
//
// # Training with the channel in the loop
//
// Channel draws what phy's receiver hands the decoder for one frame: the project's
// SNR (full-band, 52 of 64 bins), block fading from a tap profile of package loopback
// (EPA, TDL-C), the receiver's channel estimate from the two long training symbols and
// its error, equalisation by that estimate and a residual pilot phase. It is linear in
// the transmitted symbols, so gradients pass through it. TrainCodec trains a codec on a
// model's vectors alone (mean squared error); JointChannel plugs the codec and the
// channel into llm.Train (llm.Channel), so the codec and the model's semantic head and
// decoder learn together on every task's own loss: joint source-channel coding. `m4sc
// train --stage channel` runs both, in that order.
//
// # Send and receive
//
// Chain.Send encodes an input, codes it (SchemeSemantic) or quantises it to octets for
// the 802.11a DATA chain (SchemeDigital), and frames it: the m4sc header carries the
// task and bandwidth, a message number and each frame's index among its message's
// frames, so a long message spans frames and a long text several messages.
// Chain.Receive takes the frames phy's receiver found in samples, groups and places
// them, decodes what arrived (a lost frame's symbols count as lost, and the message
// says so) and runs the task with llm.Model.Decode.
//
// # Evaluation
//
// Evaluate scores a model (package llm) on held-out data, every task at once:
// perplexity on the State of the Union test split, BLEU and exact match for
// text.transmit, accuracy against the majority-class rate for text.era, exact match
// and BLEU for image.caption, accuracy by question kind for image.vqa, accuracy for
// image.classify on the test digits, and PSNR and SSIM for image.reconstruct, with
// 95% Wilson intervals on every accuracy (package semantic/metrics). EvalOptions.Sigma
// adds Gaussian noise to the semantic vectors, the simplest channel; Report.Markdown
// gives the table that `m4sc eval` prints and MODEL.md includes. EvaluateRobust
// scores the image tasks on the test scenes and digits drawn under each
// perturbation of dataset.RealisticPerturbation and by another renderer
// (RobustConditions), beside the clean figures (`m4sc eval --robust`).
//
// # Separate coding over 802.11a
//
// SchemeWiFi is the classic baseline: source coding without the model, then the
// 802.11a DATA chain at one of its eight rates, framed as SchemeDigital's octets are
// (m4sc header, FCS, at most MaxFrames frames of up to WiFiFrameOctets). Text is
// compressed with brotli (RFC 7932, github.com/andybalholm/brotli) at its highest
// quality: its built-in dictionary of common words and phrases suits single short
// sentences, which leave an adaptive compressor nothing to learn from. Over 500 SOTU
// test sentences (16.4 words, 94.7 octets each) brotli takes 63.2 octets a sentence
// lower-cased and 65.0 as written, compress/flate at BestCompression 78.4 and 81.3.
// Images go as PNG (lossless; a test scene is about 120 to 210 octets) or as JPEG at
// the highest quality whose payload fits a budget of complex data symbols
// (SendOptions.SymbolBudget, by default the semantic scheme's use at the bandwidth):
// BudgetOctets converts it at the rate into the octets the DATA field carries in that
// many whole OFDM symbols, and the JPEG is sent abbreviated (tables and headers known
// to both ends, T.81 B.4), since the full file's headers alone take some 600 octets. A
// frame that fails its FCS loses what it carried: a text shows what decoded before the
// first gap, an image shows as GreyImage, and Received counts the frames lost. The
// model runs at the receiver, on the decoded text or image, for every task but
// text.transmit and image.reconstruct.
//
// # Sweeps
//
// Sweep sends held-out items through the whole chain, loopback channel and receiver
// included, at a range of SNRs for each scheme (SchemeWiFi at every rate, and at the
// best rate in hindsight per SNR), and scores them; WriteSweepCSV, SweepMarkdown and
// PlotSweep write the results.
package semantic
