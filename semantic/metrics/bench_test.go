package metrics

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSSIM scores 32x32 RGB images, the size of dataset scenes: "func" calls
// SSIM, which plans and allocates per call; "stats" is ImageStats.Add, which reuses
// its plan and also takes PSNR.
func BenchmarkSSIM(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	const w, h, c = 32, 32, 3
	ref := smoothImage(rng, w, h, c)
	img := addNoise(rng, ref, 0.05)
	b.Run("func", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := SSIM(ref, img, w, h, c, HWC); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
	b.Run("stats", func(b *testing.B) {
		s, err := NewImageStats(w, h, c, HWC)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Add(ref, img); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
}

// BenchmarkCorpusBLEU adds sentences of 4 to 30 words, the corpus's length range,
// with about one word in five replaced, to a BLEU accumulator.
func BenchmarkCorpusBLEU(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	vocab := make([]string, 500)
	for i := range vocab {
		vocab[i] = string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + "w"
	}
	const pairs = 256
	refs, hyps := make([][]string, pairs), make([][]string, pairs)
	for i := range refs {
		n := 4 + rng.IntN(27)
		refs[i], hyps[i] = make([]string, n), make([]string, n)
		for j := range n {
			refs[i][j] = vocab[rng.IntN(len(vocab))]
			hyps[i][j] = refs[i][j]
			if rng.IntN(5) == 0 {
				hyps[i][j] = vocab[rng.IntN(len(vocab))]
			}
		}
	}
	var bl BLEU
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bl.Add(refs[i%pairs], hyps[i%pairs])
		i++
	}
	if bl.Score(4) <= 0 {
		b.Fatal("corpus BLEU-4 is 0")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sentences/s")
}
