package trial

import (
	"fmt"
	"strings"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/semantic"
)

// score is an item's metric (semantic.Score), or nil when it has no reference.
func score(it *item, text string, image []float32) (*float64, error) {
	if it.want == "" && it.in.Task != llm.ImageReconstruct {
		return nil, nil
	}
	v, err := semantic.Score(it.in.Task, it.want, it.in.Image, text, image)
	if err != nil {
		return nil, err
	}
	v = round(v, 4)
	return &v, nil
}

// decode finds the frames in a run's received samples (after the calibration's
// correction), decodes each item's messages and scores them. failed, if not empty, is
// why the receiver stopped before the run was over (or did not hear it): frames lost
// then are put down to it. It is all a replay runs, so it depends on nothing but its
// arguments, the model and the profile.
func (r *runner) decode(rs runSpec, info RunInfo, y []complex64, items []item, lay []layout, failed string) ([]Result, error) {
	if r.profile != nil {
		z := make([]complex64, len(y))
		r.profile.Correct(z, y, 0)
		y = z
	}
	rcv, err := phy.NewReceiver(phy.ReceiverConfig{})
	if err != nil {
		return nil, err
	}
	frames := rcv.Flush(rcv.Receive(nil, y))
	for _, s := range r.opts.Sinks {
		s.Received(info, y, frames)
	}
	// Frames by message number, in the order received; detections that gave no
	// header cannot be put down to a message and are counted for the run.
	byMsg := map[int][]phy.Frame{}
	var broken int
	var brokenWhy string
	for _, f := range frames {
		if f.Err != nil {
			if broken++; brokenWhy == "" {
				brokenWhy = strings.TrimPrefix(f.Err.Error(), "phy: ")
			}
			continue
		}
		if f.Kind != phy.KindSemantic {
			continue
		}
		if a := f.Header.Address; a >= RunAddressBase && a != RunAddress(rs.index) {
			continue // another run's frame (trial tx), caught at the edge of the recording
		}
		m := int(f.Header.Sequence >> 8)
		byMsg[m] = append(byMsg[m], f)
	}
	s := &r.plan.Steps[rs.step]
	task, _ := llm.ParseTask(s.Task)
	var out []Result
	for i := range items {
		it := &items[i]
		l := layout{First: i, Messages: 1}
		if i < len(lay) {
			l = lay[i]
		}
		res := Result{Run: rs.index, Step: rs.step, StepName: s.Name, Item: i, Repeat: rs.repeat, Task: s.Task, Scheme: string(rs.scheme),
			SNR: rs.snr, Channel: s.Channel, Sequence: l.First % 256, Messages: l.Messages, Sent: it.sent, Question: it.question,
			Want: it.want, Metric: semantic.MetricName(task), Frames: l.Frames}
		var mine []phy.Frame
		var seen []*phy.Frame
		for m := l.First; m < l.First+l.Messages; m++ {
			mine = append(mine, byMsg[m%256]...)
		}
		for j := range mine {
			seen = append(seen, &mine[j])
		}
		res.PHY = phyView(seen)
		got, err := r.chain.Receive(mine, semantic.ReceiveOptions{Question: it.question, Beam: r.opts.Beam})
		if err != nil {
			res.Error = err.Error()
		}
		var text []string
		var image []float32
		arrived := 0
		var partial []string
		for _, g := range got {
			if t := strings.TrimSpace(g.Text); t != "" {
				text = append(text, t)
			}
			if g.Image != nil {
				image = g.Image
			}
			arrived += g.Frames - g.Lost
			if g.Partial != "" {
				partial = append(partial, fmt.Sprintf("message %d: %s", g.Message, g.Partial))
			}
		}
		res.FramesLost = max(0, l.Frames-arrived)
		if len(got) < l.Messages {
			partial = append(partial, fmt.Sprintf("%d of %d messages not received", l.Messages-len(got), l.Messages))
		}
		if res.FramesLost > 0 {
			res.LostReason = lostReason(res.FramesLost, l.Frames-headers(mine), failed, broken, brokenWhy)
			if failed != "" && arrived == 0 && res.Error == "" {
				res.Error = failed
			}
		}
		res.Partial = strings.Join(partial, "; ")
		res.Received = strings.Join(text, " ")
		if task == llm.ImageReconstruct {
			res.Image = image
			res.Received = "(image)"
			if image == nil {
				res.Received = ""
			}
		}
		if res.Value, err = score(it, res.Received, image); err != nil {
			return nil, err
		}
		for _, sk := range r.opts.Sinks {
			sk.Result(&res)
		}
		out = append(out, res)
	}
	return out, nil
}

// headers counts the distinct frames (message and index) among an item's frames that
// arrived with a valid header.
func headers(mine []phy.Frame) int {
	seen := map[uint16]bool{}
	for _, f := range mine {
		seen[f.Header.Sequence] = true
	}
	return len(seen)
}

// lostReason says why lost of an item's frames were not received: missing of them
// never showed a valid header, the rest did but their payload could not be used.
// failed is the receiver's failure (or "run not heard"); broken counts the run's
// detections that gave no header, why the first of them failed.
func lostReason(lost, missing int, failed string, broken int, why string) string {
	missing = min(max(missing, 0), lost)
	var parts []string
	if missing > 0 {
		switch {
		case failed != "":
			parts = append(parts, fmt.Sprintf("%d not received: %s", missing, failed))
		case broken > 0:
			parts = append(parts, fmt.Sprintf("%d not received (the run had %d detections without a valid header: %s)", missing, broken, why))
		default:
			parts = append(parts, fmt.Sprintf("%d not detected", missing))
		}
	}
	if d := lost - missing; d > 0 {
		parts = append(parts, fmt.Sprintf("%d received with a payload that failed its check", d))
	}
	return strings.Join(parts, "; ")
}
