package semantic

import (
	"math"

	"github.com/m4sc/m4sc/dataset"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/semantic/metrics"
)

// MaxPSNR caps an image.reconstruct score, so that a perfect image does not give +Inf.
const MaxPSNR = 60

// Score is one output's figure of its task (MetricName): BLEU-1 of the words (case
// folded) for text.transmit, smoothed BLEU-4 for image.caption, PSNR in dB capped at
// MaxPSNR for image.reconstruct (ref is the image sent, HWC in [0, 1]; a nil image,
// nothing received, scores as GreyImage), and exact match, 1 or 0, for the others.
// want is the reference output of the text tasks.
func Score(task llm.Task, want string, ref []float32, text string, image []float32) (float64, error) {
	switch task {
	case llm.TextTransmit:
		return metrics.SentenceBLEU(metrics.Words(dataset.Normalize(want)), metrics.Words(dataset.Normalize(text)), 1), nil
	case llm.ImageCaption:
		return metrics.SmoothedSentenceBLEU(metrics.Words(want), metrics.Words(text), 4), nil
	case llm.ImageReconstruct:
		if image == nil {
			image = GreyImage()
		}
		p, err := metrics.PSNR(ref, image, 1)
		return math.Min(p, MaxPSNR), err
	}
	if metrics.ExactMatch(want, text) {
		return 1, nil
	}
	return 0, nil
}
