package sharing

import (
	"context"
	"slices"

	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/semantic"
)

// wifiOutcome is one user's unicast 802.11a transmission of a round at the best rate
// in hindsight.
type wifiOutcome struct {
	received
	value     float64
	rateMbps  int
	airtimeUS float64
	symbols   int
	sent      int  // frames
	delivered bool // every frame arrived with a good FCS at some rate
}

// wifiBest sends c to user u by semantic.SchemeWiFi (brotli text or a PNG image over
// 802.11a) at the best rate in hindsight for the user's channel: the rates are tried
// from the highest down, each over a fresh realisation of the user's channel
// (link(rate) gives the transmitter's and the receiver's device strings), and the
// first whose every frame arrives with a good FCS is kept; it is the highest that
// delivered, and the shortest airtime of those that did (airtime falls with the
// rate). A lossless source delivered is the same content at every rate, so no rate
// that delivers scores better. When none delivers, the 6 Mbit/s attempt, the most
// robust, is kept with what it brought. The model runs at the receiver on the
// decoded content for every task but text.transmit and image.reconstruct (the
// scheme's receiver does so).
func wifiBest(ctx context.Context, ch *semantic.Chain, open func(context.Context, string) (radio.Device, error), w Watcher, c content, u int, link func(rateMbps int) (tx, rx string)) (wifiOutcome, error) {
	rates := slices.Clone(phy.Rates())
	slices.Reverse(rates)
	addr := UserAddress(u)
	for i, r := range rates {
		b, err := ch.Send(c.in, semantic.SendOptions{Scheme: semantic.SchemeWiFi, Rate: r, Address: addr})
		if err != nil {
			return wifiOutcome{}, err
		}
		tx, rx := link(r.Mbps)
		fr, _, err := overSpecs(ctx, open, w, tx, []string{rx}, b.Samples)
		if err != nil {
			return wifiOutcome{}, err
		}
		ok := delivered(fr[0], addr, b.Frames)
		if !ok && i < len(rates)-1 {
			continue
		}
		got, err := ch.Receive(fr[0], semantic.ReceiveOptions{Question: c.question, Address: addr})
		if err != nil {
			return wifiOutcome{}, err
		}
		rec := joinReceived(got, b.Frames)
		v, err := score(c, rec.text, rec.image)
		if err != nil {
			return wifiOutcome{}, err
		}
		return wifiOutcome{received: rec, value: v, rateMbps: r.Mbps, airtimeUS: b.AirtimeUS, symbols: b.DataSymbols, sent: b.Frames, delivered: ok}, nil
	}
	panic("sharing: no 802.11a rates") // phy.Rates has eight
}

// delivered reports whether frames hold n frames to addr of one 802.11a-coded
// message, each decoded with a good FCS.
func delivered(frames []phy.Frame, addr uint16, n int) bool {
	seen := map[uint16]bool{}
	for i := range frames {
		f := &frames[i]
		if f.Err != nil || f.Kind != phy.KindSemantic || f.Header.Address != addr || len(f.PSDU) <= phy.FCSLen || !phy.CheckFCS(f.PSDU) {
			continue
		}
		if _, ok := f.Header.DigitalRate(); !ok {
			continue
		}
		seen[f.Header.Sequence&15] = true
	}
	return len(seen) >= n
}
