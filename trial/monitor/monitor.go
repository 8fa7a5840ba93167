// Package monitor is the live web monitor of a trial or a receiver: a page (HTML, JS
// and CSS embedded in the binary, nothing fetched from elsewhere) with the spectrum
// and its waterfall, the constellation of the latest payload, per-subcarrier SNR, a
// feed of decoded messages (texts, answers, thumbnails of reconstructed images) and
// running metrics per task and scheme (and per user, where several users share one
// transmission), pushed to the browser by server-sent events.
//
// A Monitor is a trial.Sink (and trial.StreamSink). It never holds up the receiver it
// watches: each call copies at most a small, decimated piece of what it is given and
// hands it over on a bounded channel without waiting; what does not fit is dropped
// (display updates, never samples: the receiver keeps every sample). The spectrum is
// computed in the monitor's own goroutine, at most SpectrumRate times a second, from
// SpectrumSamples samples.
//
// Entry points: New, then Run in a goroutine and Handler on an http.Server (or
// Serve, which does both).
package monitor

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io/fs"
	"math"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m4sc/m4sc/phy"
	"github.com/m4sc/m4sc/semantic"
	"github.com/m4sc/m4sc/trial"
	"gonum.org/v1/gonum/dsp/fourier"
)

// Defaults. The docs refer to these names.
const (
	SpectrumRate    = 5    // spectra per second at most
	SpectrumSamples = 8192 // samples per spectrum (32 averaged FFTs)
	FFTSize         = 256  // bins of the spectrum, DC in the middle
	MaxPoints       = 480  // constellation points per update
	QueueLen        = 64   // updates waiting for the monitor's goroutine
	ClientQueueLen  = 64   // events waiting for one browser
	FeedLen         = 30   // messages a newly opened page is sent
)

//go:embed assets
var assets embed.FS

// Message is one decoded message for the feed.
type Message struct {
	Run  int `json:"run"`
	Item int `json:"item"`
	// User is the receiver's user, where several share a transmission (m4sc share);
	// the metrics are then kept per user as well.
	User     *int     `json:"user,omitempty"`
	Task     string   `json:"task"`
	Scheme   string   `json:"scheme"`
	SNR      *float64 `json:"snr_db,omitempty"`
	Sent     string   `json:"sent,omitempty"`
	Question string   `json:"question,omitempty"`
	Received string   `json:"received"`
	Metric   string   `json:"metric,omitempty"`
	Value    *float64 `json:"value,omitempty"`
	Frames   int      `json:"frames"`
	Lost     int      `json:"frames_lost"`
	Partial  string   `json:"partial,omitempty"`
	// Image is a reconstructed image (HWC in [0, 1]); the page gets it as a PNG data
	// URI (Thumbnail).
	Image     []float32 `json:"-"`
	Thumbnail string    `json:"image,omitempty"`
}

// update is what the sink methods hand to the monitor's goroutine.
type update struct {
	kind    string
	run     *trial.RunInfo
	samples []complex64 // for the spectrum (a copy)
	frame   *frameView
	msg     *Message
}

// frameView is the latest payload: its constellation and per-subcarrier SNR.
type frameView struct {
	Kind       string       `json:"kind"`
	SNR        float64      `json:"snr_db"`
	CFO        float64      `json:"cfo_hz"`
	EVM        float64      `json:"evm_db"`
	Points     [][2]float32 `json:"points"`
	Subcarrier []float64    `json:"subcarrier_snr_db"`
}

// schemeStats are the running metrics of one scheme on one task.
type schemeStats struct {
	User     *int    `json:"user,omitempty"`
	Task     string  `json:"task"`
	Scheme   string  `json:"scheme"`
	Metric   string  `json:"metric"`
	Messages int     `json:"messages"`
	Scored   int     `json:"scored"`
	Mean     float64 `json:"mean"`
	Frames   int     `json:"frames"`
	Lost     int     `json:"frames_lost"`
	sum      float64
}

// Monitor serves the live page. The zero value is not usable; call New.
type Monitor struct {
	updates  chan update
	dropped  atomic.Int64 // updates dropped because the monitor was behind
	lastSpec atomic.Int64 // unix nanoseconds of the last spectrum taken

	mu      sync.Mutex
	clients map[chan []byte]struct{}
	// What a page opened late is sent first.
	feed  [][]byte
	last  map[string][]byte // latest spectrum, frame, metrics, run
	stats map[string]*schemeStats
	order []string
	sent  int64
	title string
}

// New returns a Monitor; title heads the page (a trial's name, a device).
func New(title string) *Monitor {
	return &Monitor{updates: make(chan update, QueueLen), clients: map[chan []byte]struct{}{}, last: map[string][]byte{},
		stats: map[string]*schemeStats{}, title: title}
}

// offer hands an update over without waiting.
func (m *Monitor) offer(u update) {
	select {
	case m.updates <- u:
	default:
		m.dropped.Add(1)
	}
}

// Dropped is the number of display updates dropped so far because the monitor's
// goroutine (or the machine) was behind.
func (m *Monitor) Dropped() int64 { return m.dropped.Load() }

// RunStarted implements trial.Sink.
func (m *Monitor) RunStarted(r trial.RunInfo) { m.offer(update{kind: "run", run: &r}) }

// Received implements trial.Sink: a spectrum from the run's first frame on, and the
// constellation of its last payload.
func (m *Monitor) Received(r trial.RunInfo, y []complex64, frames []phy.Frame) {
	from := 0
	if len(frames) > 0 && frames[0].Start >= 0 && frames[0].Start < int64(len(y)) {
		from = int(frames[0].Start)
	}
	m.spectrum(y[from:], true)
	m.Frames(frames)
}

// Stream implements trial.StreamSink: the receive stream as it arrives.
func (m *Monitor) Stream(y []complex64) { m.spectrum(y, false) }

// Samples feeds received samples (20 Msps, full scale 1) for the spectrum.
func (m *Monitor) Samples(y []complex64) { m.spectrum(y, false) }

// spectrum takes a copy of up to SpectrumSamples of y, at most SpectrumRate times a
// second (always when force is set and the last one is older than a tenth of that).
func (m *Monitor) spectrum(y []complex64, force bool) {
	if len(y) < FFTSize {
		return
	}
	now := time.Now().UnixNano()
	every := int64(time.Second / SpectrumRate)
	if force {
		every /= 10
	}
	last := m.lastSpec.Load()
	if now-last < every || !m.lastSpec.CompareAndSwap(last, now) {
		return
	}
	m.offer(update{kind: "spectrum", samples: append([]complex64(nil), y[:min(len(y), SpectrumSamples)]...)})
}

// Frames shows the last frame of frames with an analog payload (or the last decoded
// one): its constellation and per-subcarrier SNR.
func (m *Monitor) Frames(frames []phy.Frame) {
	var f *phy.Frame
	for i := len(frames) - 1; i >= 0; i-- {
		if frames[i].Err != nil {
			continue
		}
		if f == nil || (len(f.Symbols) == 0 && len(frames[i].Symbols) > 0) {
			f = &frames[i]
		}
		if len(f.Symbols) > 0 {
			break
		}
	}
	if f == nil {
		return
	}
	v := &frameView{Kind: "802.11a", SNR: round(f.SNR, 1), CFO: math.Round(f.CFO), EVM: round(f.EVM, 1)}
	if f.Kind != phy.KindLegacy {
		v.Kind = "semantic"
	}
	step := max(1, len(f.Symbols)/MaxPoints)
	for i := 0; i < len(f.Symbols); i += step {
		s := f.Symbols[i]
		v.Points = append(v.Points, [2]float32{real(s), imag(s)})
	}
	for _, s := range f.SubcarrierSNR {
		v.Subcarrier = append(v.Subcarrier, round(10*math.Log10(math.Max(float64(s), 1e-6)), 1))
	}
	m.offer(update{kind: "frame", frame: v})
}

// Result implements trial.Sink.
func (m *Monitor) Result(res *trial.Result) {
	m.Message(Message{Run: res.Run, Item: res.Item, Task: res.Task, Scheme: res.Scheme, SNR: res.SNR, Sent: res.Sent, Question: res.Question,
		Received: res.Received, Metric: res.Metric, Value: res.Value, Frames: res.Frames, Lost: res.FramesLost, Partial: res.Partial, Image: res.Image})
}

// Message adds a decoded message to the feed and the metrics.
func (m *Monitor) Message(msg Message) { m.offer(update{kind: "message", msg: &msg}) }

// Run turns updates into events for the pages until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	fft := fourier.NewCmplxFFT(FFTSize)
	seg := make([]complex128, FFTSize)
	coef := make([]complex128, FFTSize)
	win := make([]float64, FFTSize)
	for i := range win {
		win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/FFTSize) // Hann
	}
	psd := make([]float64, FFTSize)
	for {
		var u update
		select {
		case <-ctx.Done():
			return
		case u = <-m.updates:
		}
		switch u.kind {
		case "run":
			r := u.run
			m.publish("run", map[string]any{"index": r.Index, "total": r.Total, "name": r.Name, "scheme": r.Scheme, "snr_db": r.SNR}, true)
		case "spectrum":
			// Welch: Hann-windowed segments, powers averaged, DC in the middle.
			clear(psd)
			n := 0
			for off := 0; off+FFTSize <= len(u.samples); off += FFTSize {
				for i := range seg {
					seg[i] = complex128(u.samples[off+i]) * complex(win[i], 0)
				}
				fft.Coefficients(coef, seg)
				for i, c := range coef {
					psd[(i+FFTSize/2)%FFTSize] += real(c)*real(c) + imag(c)*imag(c)
				}
				n++
			}
			db := make([]float64, FFTSize)
			for i, p := range psd {
				db[i] = round(10*math.Log10(math.Max(p/float64(n)/(FFTSize*0.375*FFTSize), 1e-15)), 1)
			}
			m.publish("spectrum", map[string]any{"db": db, "rate": phy.SampleRate}, true)
		case "frame":
			m.publish("frame", u.frame, true)
		case "message":
			msg := u.msg
			if msg.Image != nil {
				msg.Thumbnail = thumbnail(msg.Image)
			}
			key := msg.Task + "\x00" + msg.Scheme
			if msg.User != nil {
				key += fmt.Sprintf("\x00%d", *msg.User)
			}
			st := m.stats[key]
			if st == nil {
				st = &schemeStats{User: msg.User, Task: msg.Task, Scheme: msg.Scheme, Metric: msg.Metric}
				m.stats[key] = st
				m.order = append(m.order, key)
			}
			st.Messages++
			st.Frames += msg.Frames
			st.Lost += msg.Lost
			if msg.Value != nil {
				st.Scored++
				st.sum += *msg.Value
				st.Mean = round(st.sum/float64(st.Scored), 3)
			}
			m.publish("message", msg, false)
			rows := make([]schemeStats, 0, len(m.order))
			for _, s := range m.order {
				rows = append(rows, *m.stats[s])
			}
			m.publish("metrics", map[string]any{"schemes": rows, "dropped": m.Dropped()}, true)
		}
	}
}

// publish sends an event to every page, dropping it for a page that is behind; keep
// makes it the one a page opened later starts from (messages go to the feed).
func (m *Monitor) publish(kind string, v any, keep bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	ev := []byte(fmt.Sprintf("event: %s\ndata: %s\n\n", kind, b))
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent++
	if keep {
		m.last[kind] = ev
	} else {
		m.feed = append(m.feed, ev)
		if len(m.feed) > FeedLen {
			m.feed = m.feed[len(m.feed)-FeedLen:]
		}
	}
	for c := range m.clients {
		select {
		case c <- ev:
		default:
		}
	}
}

// Handler serves the page (/), its assets and the event stream (/events).
func (m *Monitor) Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(sub))
	mux.HandleFunc("GET /events", m.events)
	mux.HandleFunc("GET /title", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"title": m.title})
	})
	return mux
}

func (m *Monitor) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	c := make(chan []byte, ClientQueueLen)
	m.mu.Lock()
	var first bytes.Buffer
	for _, k := range []string{"run", "spectrum", "frame", "metrics"} {
		first.Write(m.last[k])
	}
	for _, ev := range m.feed {
		first.Write(ev)
	}
	m.clients[c] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.clients, c)
		m.mu.Unlock()
	}()
	fmt.Fprintf(w, "event: hello\ndata: {\"title\":%q}\n\n", m.title)
	w.Write(first.Bytes())
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev := <-c:
			if _, err := w.Write(ev); err != nil {
				return
			}
			fl.Flush()
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			fl.Flush()
		}
	}
}

// Serve listens on addr (host:port; ":0" picks a port) and serves the monitor until
// ctx ends; it returns the address it listens on.
func (m *Monitor) Serve(ctx context.Context, addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go m.Run(ctx)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ln.Close()
		}
	}()
	return ln.Addr(), nil
}

// thumbnail is a reconstructed image as a PNG data URI.
func thumbnail(v []float32) string {
	var b bytes.Buffer
	if err := png.Encode(&b, semantic.PixelImage(v)); err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

func round(x float64, d int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	p := math.Pow(10, float64(d))
	return math.Round(x*p) / p
}
