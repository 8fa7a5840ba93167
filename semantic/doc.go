// Package semantic is where the models meet the radio: joint KAN-LLM-channel coding,
// task pipelines, baselines and metrics.
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
// gives the table that `m4sc eval` prints and MODEL.md includes.
//
// Not built yet (all but the evaluation): this file holds the place in the layout.
package semantic
