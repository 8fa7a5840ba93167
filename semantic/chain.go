package semantic

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
)

// Scheme is how a message's semantics travel.
type Scheme string

const (
	// SchemeSemantic: the channel codec's analog symbols on the payload subcarriers
	// (joint source-channel coding).
	SchemeSemantic Scheme = "semantic"
	// SchemeDigital: the same semantic vectors quantised to octets and sent through
	// the 802.11a DATA chain (convolutional code, interleaver, QAM) at one rate.
	SchemeDigital Scheme = "digital"
	// SchemeWiFi: separate source and channel coding, the classic baseline: no model
	// at the transmitter; text compressed with brotli, images as PNG or JPEG, the
	// octets through the 802.11a DATA chain at one rate. The model runs at the
	// receiver on what arrived, for tasks other than text.transmit and
	// image.reconstruct.
	SchemeWiFi Scheme = "80211a"
)

// ParseScheme reads a scheme name.
func ParseScheme(s string) (Scheme, error) {
	switch Scheme(s) {
	case SchemeSemantic, SchemeDigital, SchemeWiFi:
		return Scheme(s), nil
	}
	return "", fmt.Errorf("semantic: scheme %q: want semantic, digital or 80211a", s)
}

// Framing of messages. A message is the semantics of one input (a sentence part, an
// image); it takes one or more frames. The m4sc header's fields carry:
//
//   - Task: the llm.Task in bits 0-4, the bandwidth's index in Bandwidths in bits 5-6;
//     for SchemeWiFi bit 7 is set and bits 5-6 say what the octets are (brotli text,
//     PNG, abbreviated JPEG);
//   - Sequence: the message number (mod 256) in bits 8-15, the number of frames of the
//     message less one in bits 4-7, and this frame's index in bits 0-3, so a receiver
//     orders frames, counts the missing ones and knows when a message is complete;
//   - Length: payload symbols (semantic) or octets (digital).
//
// Every frame but a message's last carries exactly FrameSymbols payload symbols (or
// FrameOctets octets; WiFiFrameOctets of the rate for SchemeWiFi), so a receiver places
// each frame's payload by its index alone.
const (
	FrameSymbols    = 48 * 48 // payload symbols of a full semantic frame: 48 OFDM symbols
	FrameOctets     = 1024    // semantic octets of a full digital frame (its PSDU adds a 4-octet FCS)
	MaxFrames       = 16      // frames of one message
	DefaultAddress  = 1       // the user address of a point-to-point link
	FrameGapSamples = 400     // silence between frames, 20 us
)

// DefaultBandwidth returns the bandwidth the transmitter uses for a task when none is
// asked for: the smallest of Bandwidths that holds the task's clean-channel figure
// within about a point at 5 dB over AWGN with the shipped codec (semantic/RESULTS.md,
// 100 held-out items a point). image.classify needs 8 symbols per vector (accuracy
// 0.98 at 5 dB, as at 16 and at 20 dB); text, captions, questions and reconstruction
// need 16 (at 8: text BLEU-1 0.73, caption BLEU-4 0.81, vqa 0.91 against 0.97, 0.93,
// 0.98 at 16).
func DefaultBandwidth(t llm.Task) int {
	if t == llm.ImageClassify {
		return 8
	}
	return 16
}

// Quantisation of the digital scheme: each real of a semantic vector (unit RMS) is
// clipped to +-QuantRange and sent as one signed octet.
const QuantRange = 4.0

// SendOptions choose how Chain.Send transmits.
type SendOptions struct {
	Scheme    Scheme   // default SchemeSemantic
	Bandwidth int      // symbols per vector (one of Bandwidths); 0: DefaultBandwidth
	SNRHint   float64  // dB, the SNR the transmitter expects at the receiver
	Rate      phy.Rate // digital and 80211a schemes' 802.11a rate; zero value: 6 Mbit/s
	Address   uint16   // default DefaultAddress
	Message   uint8    // number of the first message (the next ones count up)
	// Image is how SchemeWiFi codes an image (default ImagePNG).
	Image ImageFormat
	// SymbolBudget is the complex data symbols SchemeWiFi's JPEG may take (converted
	// to octets by BudgetOctets at Rate); 0: Bandwidth times llm.ImageSlots, the
	// semantic scheme's use at that bandwidth.
	SymbolBudget int
}

// Burst is what Send produced: samples at 20 Msps (the frames, each followed by
// FrameGapSamples of silence) and what they carry.
type Burst struct {
	Samples     []complex64
	Frames      int
	Messages    int
	Task        llm.Task
	Scheme      Scheme
	Bandwidth   int     // symbols per vector (semantic), 0 for digital
	DataSymbols int     // complex payload symbols over every frame
	AirtimeUS   float64 // frames' duration, preambles and headers included, gaps excluded
	Words       int     // words of a text input
	Vectors     int     // semantic vectors sent
	// Digital and 80211a schemes: the 802.11a rate; 80211a: the source format
	// ("brotli", "png", "jpeg q=NN"), its octets, and a note when the JPEG did not
	// fit its budget.
	RateMbps     int
	Format       string
	SourceOctets int
	Note         string
}

// Chain is the send and receive chain of one model and codec.
type Chain struct {
	Model *llm.Model
	Codec *Codec
}

// NewChain checks that the codec carries the model's vectors.
func NewChain(m *llm.Model, c *Codec) (*Chain, error) {
	if m == nil || c == nil {
		return nil, errors.New("semantic: chain needs a model and a codec")
	}
	if c.Config().SemDim != m.Config().SemDim {
		return nil, fmt.Errorf("semantic: codec of %d-real vectors, model of %d", c.Config().SemDim, m.Config().SemDim)
	}
	return &Chain{Model: m, Codec: c}, nil
}

// taskCode packs a task and a bandwidth into the header's Task field.
func taskCode(t llm.Task, k int) uint8 {
	return uint8(t) | uint8(slices.Index(Bandwidths[:], k))<<5
}

// parseTaskCode unpacks the header's Task field.
func parseTaskCode(c uint8) (llm.Task, int, error) {
	t := llm.Task(c & 31)
	if _, err := llm.ParseTask(t.String()); err != nil {
		return 0, 0, fmt.Errorf("semantic: header task %d unknown", c&31)
	}
	i := int(c>>5) & 3
	if i >= len(Bandwidths) {
		return 0, 0, fmt.Errorf("semantic: header bandwidth index %d unknown", i)
	}
	return t, Bandwidths[i], nil
}

// Send encodes in with the model, codes it and frames it. A text longer than one
// message takes is split between words into several messages (llm.Model.SplitText).
func (c *Chain) Send(in llm.Input, o SendOptions) (*Burst, error) {
	if o.Scheme == "" {
		o.Scheme = SchemeSemantic
	}
	if o.Address == 0 {
		o.Address = DefaultAddress
	}
	if o.Rate.Mbps == 0 {
		o.Rate = phy.Rates()[0]
	}
	if math.IsNaN(o.SNRHint) || math.IsInf(o.SNRHint, 0) {
		return nil, fmt.Errorf("semantic: SNR hint %v", o.SNRHint)
	}
	k := o.Bandwidth
	if k == 0 {
		k = DefaultBandwidth(in.Task)
	}
	if err := validBandwidth(k); err != nil {
		return nil, err
	}
	if _, err := ParseScheme(string(o.Scheme)); err != nil {
		return nil, err
	}
	if o.Scheme == SchemeWiFi {
		return c.sendSeparate(in, o, k)
	}
	inputs := []llm.Input{in}
	b := &Burst{Task: in.Task, Scheme: o.Scheme}
	if o.Scheme == SchemeDigital {
		b.RateMbps = o.Rate.Mbps
	}
	if !in.Task.Image() {
		b.Words = len(strings.Fields(in.Text))
		parts := c.Model.SplitText(in.Task, in.Text)
		if len(parts) == 0 {
			return nil, fmt.Errorf("semantic: %s: the text has no words", in.Task)
		}
		inputs = inputs[:0]
		for _, p := range parts {
			inputs = append(inputs, llm.Input{Task: in.Task, Text: p})
		}
	}
	if o.Scheme == SchemeSemantic {
		b.Bandwidth = k
	}
	tx, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		return nil, err
	}
	msg := o.Message
	for _, part := range inputs {
		sem, err := c.Model.Encode(part)
		if err != nil {
			return nil, err
		}
		b.Vectors += sem.N
		var chunks int
		switch o.Scheme {
		case SchemeSemantic:
			sym, err := c.Codec.Encode(nil, sem.Vectors, sem.N, k, in.Task.Image(), o.SNRHint)
			if err != nil {
				return nil, err
			}
			pl := NewPlacement(sem.N, k)
			payload := make([]complex64, pl.Len())
			pl.Scatter(payload, sym)
			chunks = (len(payload) + FrameSymbols - 1) / FrameSymbols
			if chunks > MaxFrames {
				return nil, fmt.Errorf("semantic: message of %d symbols needs %d frames; at most %d", len(payload), chunks, MaxFrames)
			}
			for f := range chunks {
				part := payload[f*FrameSymbols : min((f+1)*FrameSymbols, len(payload))]
				h := phy.SemanticHeader{Version: phy.SemanticVersion, Kind: phy.KindSemantic, Address: o.Address,
					Task: taskCode(in.Task, k), Sequence: sequence(msg, chunks, f), Length: uint16(len(part)), Scheme: phy.SchemeAnalog}
				start := len(b.Samples)
				if b.Samples, err = tx.Semantic(b.Samples, h, part); err != nil {
					return nil, err
				}
				b.AirtimeUS += float64(len(b.Samples)-start) / phy.SampleRate * 1e6
				b.Samples = append(b.Samples, make([]complex64, FrameGapSamples)...)
				b.DataSymbols += len(part)
			}
		case SchemeDigital:
			if chunks, err = b.appendOctets(tx, Quantise(nil, sem.Vectors), FrameOctets, taskCode(in.Task, Bandwidths[0]), msg, o.Address, o.Rate); err != nil {
				return nil, err
			}
		}
		b.Frames += chunks
		b.Messages++
		msg++
	}
	return b, nil
}

// appendOctets frames data as one message of 802.11a DATA payloads at rate (the
// digital and 80211a schemes): frames of at most frameOctets octets and an FCS each,
// numbered in the header's Sequence; it returns the number of frames.
func (b *Burst) appendOctets(tx *phy.Transmitter, data []byte, frameOctets int, task, msg uint8, addr uint16, rate phy.Rate) (int, error) {
	chunks := (len(data) + frameOctets - 1) / frameOctets
	if chunks > MaxFrames {
		return 0, fmt.Errorf("semantic: message of %d octets needs %d frames; at most %d", len(data), chunks, MaxFrames)
	}
	for f := range chunks {
		part := phy.AppendFCS(slices.Clone(data[f*frameOctets : min((f+1)*frameOctets, len(data))]))
		h := phy.SemanticHeader{Version: phy.SemanticVersion, Kind: phy.KindSemantic, Address: addr,
			Task: task, Sequence: sequence(msg, chunks, f), Length: uint16(len(part)), Scheme: phy.SchemeFor(rate)}
		start := len(b.Samples)
		var err error
		if b.Samples, err = tx.SemanticDigital(b.Samples, h, part, 0x5d); err != nil {
			return 0, err
		}
		b.AirtimeUS += float64(len(b.Samples)-start) / phy.SampleRate * 1e6
		b.Samples = append(b.Samples, make([]complex64, FrameGapSamples)...)
		b.DataSymbols += rate.DataSymbols(len(part)) * phy.DataCarriers
	}
	return chunks, nil
}

func sequence(msg uint8, frames, index int) uint16 {
	return uint16(msg)<<8 | uint16(frames-1)<<4 | uint16(index)
}

// Quantise appends one signed octet per real of v: round(x * 127 / QuantRange), x
// clipped to +-QuantRange.
func Quantise(dst []byte, v []float32) []byte {
	const s = 127 / QuantRange
	for _, x := range v {
		q := math.Round(max(-QuantRange, min(QuantRange, float64(x))) * s)
		dst = append(dst, byte(int8(q)))
	}
	return dst
}

// Dequantise appends the reals of octets written by Quantise.
func Dequantise(dst []float32, b []byte) []float32 {
	for _, o := range b {
		dst = append(dst, float32(float64(int8(o))*QuantRange/127))
	}
	return dst
}

// Received is one message at the receiver.
type Received struct {
	Message   int     `json:"message"` // message number from the header
	Task      string  `json:"task"`
	Scheme    Scheme  `json:"scheme"`
	Bandwidth int     `json:"bandwidth,omitempty"`
	Frames    int     `json:"frames"`      // frames the message was sent in
	Lost      int     `json:"frames_lost"` // of those, not received
	SNR       float64 `json:"snr_db"`      // mean over the frames received
	CFO       float64 `json:"cfo_hz"`
	Text      string  `json:"text,omitempty"`
	// RateMbps and Format: the 802.11a rate of the digital and 80211a schemes, and
	// what an 80211a message's octets were (brotli, png, jpeg).
	RateMbps int    `json:"rate_mbps,omitempty"`
	Format   string `json:"format,omitempty"`
	// Partial says what was missing when frames were lost: the output is the
	// decoder's best from what arrived.
	Partial string `json:"partial,omitempty"`
	// Image is image.reconstruct's output, HWC in [0, 1].
	Image []float32 `json:"-"`
}

// ReceiveOptions configure Chain.Receive.
type ReceiveOptions struct {
	Question string // the receiver's question for image.vqa messages
	Beam     int    // beam width of text decoding (0: greedy)
	Address  uint16 // keep frames to this address (0: any)
}

// message collects the frames of one message.
type message struct {
	num, frames int
	task        llm.Task
	k           int
	scheme      Scheme
	source      uint8 // SchemeWiFi's source format
	rate        phy.Rate
	got         map[int]*phy.Frame
	snr, cfo    float64
}

// Receive decodes the messages in frames (as phy.Receiver returns them, in order):
// frames are grouped by message number and placed by index; a message whose frames
// did not all arrive is decoded from what did (the missing symbols count as lost),
// and says so in Partial. Frames that failed in the PHY (no header) and frames to
// other addresses are skipped.
func (c *Chain) Receive(frames []phy.Frame, o ReceiveOptions) ([]Received, error) {
	var msgs []*message
	byNum := map[int]*message{}
	for i := range frames {
		f := &frames[i]
		if f.Err != nil || f.Kind != phy.KindSemantic {
			continue
		}
		if o.Address != 0 && f.Header.Address != o.Address {
			continue
		}
		task, k, err := parseTaskCode(f.Header.Task)
		if err != nil {
			continue
		}
		num := int(f.Header.Sequence >> 8)
		total := int(f.Header.Sequence>>4&15) + 1
		idx := int(f.Header.Sequence & 15)
		if idx >= total {
			continue
		}
		scheme := SchemeSemantic
		var rate phy.Rate
		if r, ok := f.Header.DigitalRate(); ok {
			scheme, rate = SchemeDigital, r
			if f.Header.Task&separateCoding != 0 {
				scheme = SchemeWiFi
			}
			if f.PSDU == nil {
				continue
			}
		}
		m := byNum[num]
		// The same number again after a complete message starts a new one (numbers
		// wrap at 256).
		if m != nil && (m.task != task || m.scheme != scheme || m.frames != total || m.got[idx] != nil) {
			m = nil
		}
		if m == nil {
			m = &message{num: num, frames: total, task: task, k: k, scheme: scheme, source: f.Header.Task >> 5 & 3, rate: rate, got: map[int]*phy.Frame{}}
			byNum[num] = m
			msgs = append(msgs, m)
		}
		m.got[idx] = f
		m.snr += f.SNR
		m.cfo += f.CFO
	}
	var out []Received
	for _, m := range msgs {
		r, err := c.decodeMessage(m, o)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (c *Chain) decodeMessage(m *message, o ReceiveOptions) (Received, error) {
	r := Received{Message: m.num, Task: m.task.String(), Scheme: m.scheme, Frames: m.frames, Lost: m.frames - len(m.got)}
	if n := len(m.got); n > 0 {
		r.SNR, r.CFO = m.snr/float64(n), m.cfo/float64(n)
	}
	if m.scheme == SchemeWiFi {
		return c.decodeSeparate(m, o, r)
	}
	dim := c.Model.Config().SemDim
	image := m.task.Image()
	var sem llm.Semantics
	switch m.scheme {
	case SchemeSemantic:
		r.Bandwidth = m.k
		// Payload length: exact when the last frame arrived, else as many whole
		// vectors as the frames before it hold.
		var l int
		if last, ok := m.got[m.frames-1]; ok {
			l = (m.frames-1)*FrameSymbols + len(last.Symbols)
		} else {
			l = m.frames * FrameSymbols
		}
		n := llm.ImageSlots
		if !image {
			n = min(l/m.k, c.Model.MaxTextTokens(m.task))
		}
		if n < 1 {
			return r, nil
		}
		l = n * m.k
		payload := make([]complex64, l)
		psnr := make([]float32, l)
		for idx, f := range m.got {
			for j, s := range f.Symbols {
				p := idx*FrameSymbols + j
				if p < l {
					payload[p] = s
					psnr[p] = f.SubcarrierSNR[j%phy.DataCarriers]
				}
			}
		}
		pl := NewPlacement(n, m.k)
		sym, snr := make([]complex64, l), make([]float32, l)
		pl.Gather(sym, snr, payload, psnr)
		v, err := c.Codec.Decode(nil, sym, snr, n, m.k, image)
		if err != nil {
			return r, err
		}
		sem = llm.Semantics{Task: m.task, N: n, Dim: dim, Vectors: v}
	case SchemeDigital:
		r.RateMbps = m.rate.Mbps
		data, failed, _ := m.octets(FrameOctets)
		r.Lost += failed
		n := llm.ImageSlots
		if image {
			data = append(data, make([]byte, max(0, n*dim-len(data)))...)
		} else {
			n = min(len(data)/dim, c.Model.MaxTextTokens(m.task))
		}
		if n < 1 {
			r.Partial = "nothing arrived"
			return r, nil
		}
		sem = llm.Semantics{Task: m.task, N: n, Dim: dim, Vectors: Dequantise(nil, data[:n*dim])}
	}
	if r.Lost > 0 {
		r.Partial = fmt.Sprintf("%d of %d frames lost; decoded from the rest", r.Lost, r.Frames)
	}
	outp, err := c.runTask(sem, m, o)
	if err != nil {
		return r, err
	}
	r.Text, r.Image = outp.Text, outp.Image
	return r, nil
}

// runTask decodes a message's semantics with the model, for the message's task.
func (c *Chain) runTask(sem llm.Semantics, m *message, o ReceiveOptions) (llm.Output, error) {
	ins := llm.Instruction{Task: m.task}
	if m.task.NeedsQuestion() {
		if o.Question == "" {
			return llm.Output{}, fmt.Errorf("semantic: message %d is %s: the receiver needs a question", m.num, m.task)
		}
		ins.Question = o.Question
	}
	return c.Model.Decode(sem, ins, llm.DecodeOptions{Beam: o.Beam})
}

// octets reassembles the payload of a message sent by appendOctets in frames of
// frameOctets octets. A frame that did not arrive or whose FCS failed leaves, unless
// it was the last, frameOctets zero octets in its place; failed counts those that
// arrived with a bad FCS, whole is the length of data before the first gap.
func (m *message) octets(frameOctets int) (data []byte, failed, whole int) {
	whole = -1
	for idx := range m.frames {
		f, ok := m.got[idx]
		if ok && (len(f.PSDU) <= phy.FCSLen || !phy.CheckFCS(f.PSDU)) {
			// The frame's FCS failed: the octets are not trusted.
			failed++
			ok = false
		}
		if !ok {
			if whole < 0 {
				whole = len(data)
			}
			if idx < m.frames-1 {
				data = append(data, make([]byte, frameOctets)...)
			}
			continue
		}
		data = append(data, f.PSDU[:len(f.PSDU)-phy.FCSLen]...)
	}
	if whole < 0 {
		whole = len(data)
	}
	return data, failed, whole
}
