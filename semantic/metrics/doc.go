// Package metrics scores the output of m4sc's semantic tasks against the truth: BLEU-1
// to BLEU-4 and exact match for text, accuracy with a Wilson confidence interval for
// classification and question answering, and PSNR and SSIM for images.
//
// # Text
//
// Words splits a sentence into the tokens BLEU counts (lower case, punctuation split
// from words). SentenceBLEU scores one hypothesis against one reference as Papineni,
// Roukos, Ward and Zhu define BLEU ("BLEU: a Method for Automatic Evaluation of Machine
// Translation", ACL 2002): clipped n-gram precisions of orders 1..n combined by a
// geometric mean with weights 1/n, times the brevity penalty. Without smoothing a
// sentence with no match at some order scores 0; SmoothedSentenceBLEU applies method 1
// of Chen and Cherry ("A Systematic Comparison of Smoothing Techniques for
// Sentence-Level BLEU", WMT 2014) instead. The BLEU accumulator gives both the corpus
// score of the paper (counts summed over sentences before the precisions are taken) and
// the mean of sentence scores, which is the figure DeepSC (Xie et al., IEEE Trans.
// Signal Process. 2021) plots. ExactMatch compares two sentences token by token.
//
// # Accuracy
//
// Accuracy counts correct answers and gives the rate with a Wilson score interval
// (Wilson, J. Am. Stat. Assoc. 22, 1927), which stays inside [0, 1] and keeps its
// coverage for rates near 0 or 1 and for small counts, where the normal interval does
// not.
//
// # Images
//
// Pixels are float32 in [0, 1], interleaved (HWC) or planar (CHW). PSNR is
// 10 log10(peak^2 / MSE) in dB. SSIM is the index of Wang, Bovik, Sheikh and Simoncelli
// ("Image Quality Assessment: From Error Visibility to Structural Similarity", IEEE
// Trans. Image Process. 13(4), 2004) with the paper's settings: an 11x11 Gaussian
// window of standard deviation 1.5, K1 = 0.01, K2 = 0.03 and dynamic range L = 1, taken
// on each channel and averaged over the windows that lie wholly inside the image, then
// over channels. ImageStats accumulates both over an evaluation set.
//
// Not here: multi-reference BLEU, sacreBLEU's tokenisers (Words is close to its 13a
// rule but not identical, so scores compare within m4sc, not digit for digit with
// published tables), METEOR, BERTScore and other learned metrics, MS-SSIM, and the
// downsampling that the authors' later SSIM code applies to images larger than 256
// pixels. The package only scores: it reads no data set and runs no model.
package metrics
