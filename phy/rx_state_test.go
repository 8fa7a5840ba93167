package phy

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/m4sc/m4sc/radio/loopback"
)

// stateStream is a stream with a legacy frame, an analog and a digital semantic frame
// and a legacy frame that ends on the stream's last sample, through noise at 25 dB, a
// carrier offset and a DC offset.
func stateStream(t *testing.T) []complex64 {
	t.Helper()
	tx, err := NewTransmitter(TransmitterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(16, 4))
	psdu := make([]byte, 200)
	for i := range psdu {
		psdu[i] = byte(rng.Uint32())
	}
	sym := make([]complex64, 300)
	for i := range sym {
		sym[i] = complex(float32(rng.NormFloat64()), float32(rng.NormFloat64()))
	}
	gap := make([]complex64, 500)
	x := tx.Packet(nil, AppendFCS(psdu), rateTable()[4], 0x5d)
	x = append(x, gap...)
	if x, err = tx.Semantic(x, testHeader(uint16(len(sym)), SchemeAnalog), sym); err != nil {
		t.Fatal(err)
	}
	x = append(x, gap...)
	if x, err = tx.SemanticDigital(x, testHeader(100, SchemeFor(rateTable()[6])), psdu[:100], 0x11); err != nil {
		t.Fatal(err)
	}
	x = append(x, gap...)
	// The last frame without the standard's extra windowing sample: the stream ends
	// on its last symbol's last sample.
	plain, err := NewTransmitter(TransmitterConfig{Windowing: WindowingNone})
	if err != nil {
		t.Fatal(err)
	}
	x = plain.Packet(x, psdu[:30], rateTable()[7], 0x22)
	y := channel(t, x, 3000, 3000+len(x), loopback.ChannelConfig{AWGN: true, SNR: 25, CarrierOffset: 60e3, DC: 0.01 - 0.02i, Seed: 9})
	return y
}

// A receiver Reset in the middle of a frame, in any state, decodes a stream exactly as
// a new receiver does, frame starts (counted from the new stream's first sample)
// included.
func TestReceiverReset(t *testing.T) {
	y := stateStream(t)
	fresh, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if s := fresh.State(); s != StateSeek {
		t.Fatalf("new receiver in state %v", s)
	}
	want := receiveChunks(fresh, y, 1000)
	if len(want) != 4 {
		t.Fatalf("%d frames: %+v", len(want), want)
	}
	for i, f := range want {
		if f.Err != nil {
			t.Fatalf("frame %d: %v", i, f.Err)
		}
	}
	for _, stop := range []ReceiverState{StateSeek, StateLongTraining, StateSignal, StateHeader, StatePayload} {
		r, err := NewReceiver(ReceiverConfig{})
		if err != nil {
			t.Fatal(err)
		}
		// Leave the receiver inside another stream: part of the way into it, stopped
		// as soon as it reaches the state (or the last frame's payload for StateSeek,
		// so that a DC estimate and stream position are left behind too).
		other := stateStream(t)[500:]
		n := 0
		for ; n < len(other); n++ {
			r.Receive(nil, other[n:n+1])
			if r.State() == stop && (stop != StateSeek || n > len(other)/2) {
				break
			}
		}
		if n == len(other) {
			t.Fatalf("the receiver never reached state %v", stop)
		}
		r.Reset()
		if s := r.State(); s != StateSeek {
			t.Fatalf("after Reset in state %v: state %v", stop, s)
		}
		if got := receiveChunks(r, y, 1000); !reflect.DeepEqual(got, want) {
			t.Errorf("Reset in state %v (after %d samples): frames differ\n got %+v\nwant %+v", stop, n, got, want)
		}
	}
	// Flush ends the stream and keeps only the DC estimate (the radio's): the same
	// receiver finds the same frames at the same places in the stream again, and after
	// a Reset decodes them identically.
	if fresh.dc == 0 {
		t.Error("Flush forgot the DC estimate")
	}
	again := receiveChunks(fresh, y, 777)
	if len(again) != len(want) {
		t.Fatalf("after Flush: %d frames, want %d", len(again), len(want))
	}
	for i, f := range again {
		w := want[i]
		if f.Err != nil || f.Start != w.Start || f.Kind != w.Kind || f.Header != w.Header || f.Rate != w.Rate || string(f.PSDU) != string(w.PSDU) || len(f.Symbols) != len(w.Symbols) {
			t.Errorf("after Flush, frame %d: %+v\nwant %+v", i, f, w)
		}
	}
	fresh.Reset()
	if got := receiveChunks(fresh, y, 777); !reflect.DeepEqual(got, want) {
		t.Errorf("after Flush and Reset: frames differ\n got %+v\nwant %+v", got, want)
	}
}

// Fed one sample at a time, the receiver goes through its states in order for every
// frame and is back in StateSeek between frames.
func TestReceiverStates(t *testing.T) {
	y := stateStream(t)
	r, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var frames []Frame
	var seen [][]ReceiverState // states seen during each frame, in order
	var cur []ReceiverState
	for i := range y {
		n := len(frames)
		frames = r.Receive(frames, y[i:i+1])
		s := r.State()
		if len(frames) > n {
			seen = append(seen, cur)
			cur = nil
			if s != StateSeek {
				t.Fatalf("sample %d: a frame ended but the receiver is in state %v", i, s)
			}
		}
		if s != StateSeek && (len(cur) == 0 || cur[len(cur)-1] != s) {
			if len(cur) > 0 && s < cur[len(cur)-1] {
				t.Fatalf("sample %d: state %v after %v", i, s, cur[len(cur)-1])
			}
			cur = append(cur, s)
		}
	}
	frames = r.Flush(frames)
	if len(cur) > 0 {
		seen = append(seen, cur)
	}
	if len(frames) != 4 {
		t.Fatalf("%d frames: %+v", len(frames), frames)
	}
	for i, f := range frames {
		if f.Err != nil {
			t.Errorf("frame %d: %v", i, f.Err)
		}
		// Every frame is seen waiting for its long training field and its last symbol.
		// A semantic frame shows its header state (eight symbols to wait for), and its
		// SIGNAL state while the receiver waits for the two symbols after SIGNAL whose
		// axis tells it from a 6 Mbit/s legacy frame; a legacy frame at a higher rate
		// may pass SIGNAL within one sample.
		want := []ReceiverState{StateLongTraining, StatePayload}
		if f.Kind != KindLegacy {
			want = []ReceiverState{StateLongTraining, StateSignal, StateHeader, StatePayload}
		}
		got := slices.DeleteFunc(slices.Clone(seen[i]), func(s ReceiverState) bool { return f.Kind == KindLegacy && s == StateSignal })
		if !slices.Equal(got, want) {
			t.Errorf("frame %d (kind %d): states %v, want %v", i, f.Kind, seen[i], want)
		}
	}
	if r.State() != StateSeek {
		t.Errorf("after Flush: state %v", r.State())
	}
}

func TestReceiverStateString(t *testing.T) {
	for s, want := range map[ReceiverState]string{StateSeek: "seek", StateLongTraining: "long training", StateSignal: "signal",
		StateHeader: "header", StatePayload: "payload", 9: "ReceiverState(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", s, s.String(), want)
		}
	}
}
