package calibration

import (
	"math"

	"github.com/m4sc/m4sc/radio"
)

// gainPlan is the gain stages of one direction of a device, which the sweep treats as
// one total gain (the sum of the stages in dB): the stages move the received level dB
// for dB, and settings spreads a total over them.
type gainPlan struct {
	stages []radio.GainInfo // in the device's order
	lo, hi float64          // smallest and largest total, dB
}

func newGainPlan(in radio.Info, dir radio.Direction) gainPlan {
	var g gainPlan
	for _, s := range in.Gains {
		if s.Direction == dir {
			g.stages = append(g.stages, s)
			g.lo += s.Range.Min
			g.hi += s.Range.Max
		}
	}
	return g
}

// total sums the plan's stages in m (stages missing from m count at their default).
func (g gainPlan) total(m map[string]float64) float64 {
	s := 0.0
	for _, st := range g.stages {
		v, ok := m[st.Name]
		if !ok {
			v = st.Default
		}
		s += v
	}
	return s
}

// maxCombinations bounds the exhaustive search of settings.
const maxCombinations = 1 << 16

// values lists a stage's settings; a continuous stage gives none (it takes what is left).
func stageValues(r radio.Range) []float64 {
	if r.Step <= 0 {
		return nil
	}
	n := int(math.Floor((r.Max-r.Min)/r.Step+1e-9)) + 1
	v := make([]float64, n)
	for i := range v {
		v[i] = r.Min + float64(i)*r.Step
	}
	return v
}

// isSwitch reports whether a stage is an on/off amplifier (two settings).
func isSwitch(s radio.GainInfo) bool {
	return s.Range.Step > 0 && s.Range.Step >= s.Range.Max-s.Range.Min && s.Range.Max > s.Range.Min
}

// settings returns the stage values whose sum comes closest to total. Among equally
// close ones it prefers fewer switched amplifiers on, then values nearer the stages'
// defaults, then larger values in earlier stages (the first stages of a receiver, its
// LNA, set its noise figure).
func (g gainPlan) settings(total float64) map[string]float64 {
	out := make(map[string]float64, len(g.stages))
	if len(g.stages) == 0 {
		return out
	}
	// The last continuous stage, if any, absorbs the remainder.
	cont := -1
	combos := 1
	lists := make([][]float64, len(g.stages))
	for i, s := range g.stages {
		lists[i] = stageValues(s.Range)
		if lists[i] == nil {
			if cont >= 0 {
				lists[i] = []float64{s.Default} // a second continuous stage stays put
			} else {
				cont = i
				lists[i] = []float64{0}
			}
		}
		if combos <= maxCombinations {
			combos *= len(lists[i])
		}
	}
	if combos > maxCombinations {
		// Too many to try: fill the stages in order.
		rest := total
		for _, s := range g.stages {
			v := clamp(rest, s.Range.Min, s.Range.Max)
			if s.Range.Step > 0 {
				v = s.Range.Min + math.Round((v-s.Range.Min)/s.Range.Step)*s.Range.Step
				v = clamp(v, s.Range.Min, s.Range.Max)
			}
			rest -= v
			out[s.Name] = v
		}
		return out
	}
	type key struct{ err, sw, dist float64 }
	better := func(a, b key, va, vb []float64) bool {
		const eps = 1e-9
		switch {
		case math.Abs(a.err-b.err) > eps:
			return a.err < b.err
		case a.sw != b.sw:
			return a.sw < b.sw
		case math.Abs(a.dist-b.dist) > eps:
			return a.dist < b.dist
		}
		for i := range va {
			if va[i] != vb[i] {
				return va[i] > vb[i]
			}
		}
		return false
	}
	cur := make([]float64, len(g.stages))
	best := make([]float64, len(g.stages))
	bestKey := key{err: math.Inf(1)}
	var walk func(i int)
	walk = func(i int) {
		if i < len(g.stages) {
			for _, v := range lists[i] {
				cur[i] = v
				walk(i + 1)
			}
			return
		}
		sum := 0.0
		for j, v := range cur {
			if j != cont {
				sum += v
			}
		}
		if cont >= 0 {
			r := g.stages[cont].Range
			cur[cont] = clamp(total-sum, r.Min, r.Max)
			sum += cur[cont]
		}
		k := key{err: math.Abs(sum - total)}
		for j, s := range g.stages {
			if isSwitch(s) && cur[j] > s.Range.Min {
				k.sw++
			}
			k.dist += math.Abs(cur[j] - s.Default)
		}
		if better(k, bestKey, cur, best) {
			bestKey = k
			copy(best, cur)
		}
	}
	walk(0)
	for i, s := range g.stages {
		out[s.Name] = best[i]
	}
	return out
}
