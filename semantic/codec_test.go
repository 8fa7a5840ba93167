package semantic

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/nn"
)

// randomPool is a pool of unit-RMS vectors with structure a codec can learn: each
// vector lies near a low-dimensional subspace, as a model's semantic vectors do.
func randomPool(dim, n int, rng *rand.Rand) *VectorPool {
	const rank = 8
	basis := make([]float64, rank*dim)
	for i := range basis {
		basis[i] = rng.NormFloat64()
	}
	gen := func(count int) []float32 {
		out := make([]float32, 0, count*dim)
		v := make([]float64, dim)
		for range count {
			clear(v)
			for r := range rank {
				c := rng.NormFloat64()
				for j := range dim {
					v[j] += c * basis[r*dim+j]
				}
			}
			var s float64
			for j := range dim {
				v[j] += 0.1 * rng.NormFloat64()
				s += v[j] * v[j]
			}
			s = math.Sqrt(s / float64(dim))
			for j := range dim {
				out = append(out, float32(v[j]/s))
			}
		}
		return out
	}
	return &VectorPool{Dim: dim, Text: gen(n), Images: gen(n)}
}

// mseOver measures the codec's mean squared error per real value on pool messages
// sent over channel kind at snr dB, decoding through the inference path (Encode,
// placement, channel, Decode).
func mseOver(t *testing.T, c *Codec, pool *VectorPool, kind ChannelKind, snr float64, k, msgs int, rng *rand.Rand) float64 {
	t.Helper()
	ch, err := NewChannel(kind)
	if err != nil {
		t.Fatal(err)
	}
	d, per := pool.Dim, MessageVectors
	pl := NewPlacement(per, k)
	var fc FrameChannel
	var se float64
	var count int
	for m := range msgs {
		image := m%2 == 1
		src := pool.Text
		if image {
			src = pool.Images
		}
		i := rng.IntN(len(src)/(per*d)) * per * d
		vecs := src[i : i+per*d]
		sym, err := c.Encode(nil, vecs, per, k, image, snr)
		if err != nil {
			t.Fatal(err)
		}
		ch.Draw(&fc, snr, rng)
		payload := make([]complex64, pl.Len())
		pl.Scatter(payload, sym)
		psnr := make([]float32, pl.Len())
		for p := range payload {
			sc := p % len(fc.Gain)
			n := complex(fc.Noise[sc]*float32(rng.NormFloat64()), fc.Noise[sc]*float32(rng.NormFloat64()))
			payload[p] = payload[p]*fc.Gain[sc] + n
			psnr[p] = fc.SNR[sc]
		}
		rx, rsnr := make([]complex64, len(sym)), make([]float32, len(sym))
		pl.Gather(rx, rsnr, payload, psnr)
		out, err := c.Decode(nil, rx, rsnr, per, k, image)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range out {
			e := float64(v - vecs[j])
			se += e * e
			count++
		}
	}
	return se / float64(count)
}

// A codec trained on structured vectors carries them: the error falls with SNR and
// with bandwidth, and at 25 dB over AWGN the widest setting is far below the vectors'
// own power (1 per real value).
func TestCodecLearns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := randomPool(32, 2000, rng)
	c, err := NewCodec(CodecConfig{Hidden: 24}, rng)
	if err != nil {
		t.Fatal(err)
	}
	steps := int64(300)
	if testing.Short() {
		steps = 120
	}
	var first, last float64
	err = TrainCodec(context.Background(), c, pool, CodecTrainOptions{Steps: steps, Messages: 4, Seed: 3, LR: 3e-3,
		Report: func(r CodecStepReport) {
			if r.Step == 1 {
				first = r.Loss
			}
			last = r.Loss
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("training loss %.3f -> %.3f in %d steps", first, last, steps)
	eval := rand.New(rand.NewPCG(9, 9))
	lo := mseOver(t, c, pool, ChannelAWGN, 0, 16, 40, eval)
	hi := mseOver(t, c, pool, ChannelAWGN, 25, 16, 40, eval)
	narrow := mseOver(t, c, pool, ChannelAWGN, 25, 4, 40, eval)
	t.Logf("MSE per value: k=16 at 0 dB %.3f, at 25 dB %.3f; k=4 at 25 dB %.3f", lo, hi, narrow)
	if !(last < first) || !(hi < lo) || !(hi < narrow) || hi > 0.3 {
		t.Errorf("codec did not learn: loss %.3f -> %.3f; MSE 0 dB %.3f, 25 dB %.3f, k=4 %.3f", first, last, lo, hi, narrow)
	}
}

func TestCodecSaveLoad(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, arch := range []string{ArchKAN, ArchMLP} {
		c, err := NewCodec(CodecConfig{Hidden: 8, Arch: arch}, rng)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "codec.safetensors")
		if err := c.Save(path, map[string]string{"command": "test"}); err != nil {
			t.Fatal(err)
		}
		d, err := LoadCodec(path)
		if err != nil {
			t.Fatal(err)
		}
		vecs := randomPool(32, 16, rng).Text
		a, err := c.Encode(nil, vecs, 16, 8, false, 10)
		if err != nil {
			t.Fatal(err)
		}
		b, err := d.Encode(nil, vecs, 16, 8, false, 10)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s: loaded codec encodes differently at %d: %v vs %v", arch, i, a[i], b[i])
			}
		}
		var p float64
		for _, v := range a {
			p += float64(real(v)*real(v) + imag(v)*imag(v))
		}
		if p /= float64(len(a)); math.Abs(p-1) > 1e-4 {
			t.Errorf("%s: mean symbol power %.6f, want 1", arch, p)
		}
		t.Logf("%s: %s", arch, d)
	}
}

// Every invalid call is refused with an error naming what was wrong.
func TestCodecBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c, err := NewCodec(CodecConfig{Hidden: 8}, rng)
	if err != nil {
		t.Fatal(err)
	}
	vecs := make([]float32, 32*4)
	if _, err := c.Encode(nil, vecs, 4, 5, false, 0); err == nil {
		t.Error("bandwidth 5 accepted")
	}
	if _, err := c.Encode(nil, vecs, 3, 8, false, 0); err == nil {
		t.Error("vector count that does not match the values accepted")
	}
	if _, err := c.Encode(nil, vecs, 4, 8, false, math.NaN()); err == nil {
		t.Error("NaN SNR hint accepted")
	}
	if _, err := c.Decode(nil, make([]complex64, 31), make([]float32, 32), 4, 8, false); err == nil {
		t.Error("short symbols accepted")
	}
	// NaN and infinite received values decode to finite vectors (a broken capture
	// must not poison the language model).
	sym := make([]complex64, 32)
	snr := make([]float32, 32)
	for i := range sym {
		sym[i] = complex(float32(math.NaN()), float32(math.Inf(1)))
		snr[i] = float32(math.Inf(1))
	}
	out, err := c.Decode(nil, sym, snr, 4, 8, true)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("decoded value %d is %v", i, v)
		}
	}
	for _, cfg := range []CodecConfig{{SemDim: 3}, {Hidden: -1}, {Arch: "cnn"}, {Grid: 100}} {
		if _, err := NewCodec(cfg, rng); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

// Placement is a permutation, and one vector's symbols land on distinct subcarriers.
func TestPlacement(t *testing.T) {
	for _, nk := range [][2]int{{1, 1}, {1, 4}, {16, 4}, {16, 8}, {16, 16}, {63, 16}, {7, 8}, {48, 16}} {
		p := NewPlacement(nk[0], nk[1])
		seen := make([]bool, p.Len())
		for i := range nk[0] {
			subs := map[int]bool{}
			for j := range nk[1] {
				q := p.Pos(i, j)
				if q < 0 || q >= p.Len() || seen[q] {
					t.Fatalf("n=%d k=%d: position %d of (%d, %d) out of range or taken", nk[0], nk[1], q, i, j)
				}
				seen[q] = true
				subs[p.Subcarrier(i, j)] = true
			}
			if p.Len() >= 48 && len(subs) < nk[1] {
				t.Errorf("n=%d k=%d: vector %d uses %d distinct subcarriers for %d symbols", nk[0], nk[1], i, len(subs), nk[1])
			}
		}
	}
}

// A training step's gradient for one bandwidth's networks is the gradient of that
// bandwidth's pass alone: the passes of the other bandwidths, recorded before the
// backward pass, must not change the data it reads.
func TestCodecStepPassesIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := randomPool(32, 200, rng)
	c, err := NewCodec(CodecConfig{Hidden: 4}, rng)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := NewChannel(ChannelEPA)
	if err != nil {
		t.Fatal(err)
	}
	o := CodecTrainOptions{Messages: 2, SNRMin: 0, SNRMax: 20, Erasure: 0.5}
	grads := func(ks []int) []float32 {
		g := nn.NewGraph[float32](nil)
		c.params.ZeroGrad()
		batches := map[int]*codecBatch{}
		for _, k := range Bandwidths {
			batches[k] = newCodecBatch(32, 2)
		}
		total, _ := c.stepLoss(g, batches, ks, pool, []*Channel{ch}, o, rand.New(rand.NewPCG(3, 4)))
		g.Backward(total)
		var out []float32
		for _, name := range c.params.Names() {
			if strings.HasPrefix(name, "codec/enc4/") || strings.HasPrefix(name, "codec/dec4/") {
				out = append(out, c.params.Get(name).Grad...)
			}
		}
		return out
	}
	alone, together := grads([]int{4}), grads(Bandwidths[:])
	for i := range alone {
		if alone[i] != together[i] {
			t.Fatalf("bandwidth 4's gradient %d is %g alone and %g with the other passes", i, alone[i], together[i])
		}
	}
}
