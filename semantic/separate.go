package semantic

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
)

// ImageFormat is how SchemeWiFi codes an image.
type ImageFormat string

const (
	// ImagePNG: the image as a PNG file (lossless).
	ImagePNG ImageFormat = "png"
	// ImageJPEG: the image as baseline JPEG at the highest quality that fits the
	// symbol budget (SendOptions.SymbolBudget), sent in the abbreviated format of ITU-T
	// T.81 B.4: the table-specification segments (Go's encoder: the Annex K tables,
	// quantisation scaled by the quality) and the frame and scan headers of a 32x32
	// colour image are known to both ends, so the payload is one octet of quality and
	// the entropy-coded scan; the receiver rebuilds the interchange file from them.
	ImageJPEG ImageFormat = "jpeg"
)

// ParseImageFormat reads an image format name.
func ParseImageFormat(s string) (ImageFormat, error) {
	switch ImageFormat(s) {
	case ImagePNG, ImageJPEG:
		return ImageFormat(s), nil
	}
	return "", fmt.Errorf("semantic: image format %q: want png or jpeg", s)
}

// Source formats of a SchemeWiFi message, in bits 5-6 of the header's Task field
// (where the analog scheme keeps its bandwidth).
const (
	sourceText uint8 = iota // brotli-compressed UTF-8
	sourcePNG
	sourceJPEG
)

// separateCoding marks a SchemeWiFi frame in bit 7 of the header's Task field.
const separateCoding = 1 << 7

// TextQuality is the brotli quality SchemeWiFi compresses text at (the highest).
const TextQuality = brotli.BestCompression

// maxText bounds a decompressed text, against decompression bombs from outside.
const maxText = 1 << 20

// CompressText appends s compressed with brotli (RFC 7932) at TextQuality.
func CompressText(dst []byte, s string) []byte {
	b := bytes.NewBuffer(dst)
	w := brotli.NewWriterLevel(b, TextQuality)
	// Writes to a bytes.Buffer do not fail.
	io.WriteString(w, s)
	w.Close()
	return b.Bytes()
}

// DecompressText decodes brotli data. Truncated or damaged data gives the text
// decoded before the damage and an error.
func DecompressText(b []byte) (string, error) {
	var out strings.Builder
	_, err := io.Copy(&out, io.LimitReader(brotli.NewReader(bytes.NewReader(b)), maxText))
	if err != nil {
		return out.String(), fmt.Errorf("semantic: brotli: %w", err)
	}
	return out.String(), nil
}

// PixelImage turns HWC values in [0, 1] (llm.ImageSize square, llm.ImageChannels)
// into an opaque RGBA image, each value rounded to 8 bits.
func PixelImage(v []float32) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, llm.ImageSize, llm.ImageSize))
	q := func(x float32) uint8 { return uint8(min(max(x, 0), 1)*255 + 0.5) }
	for y := range llm.ImageSize {
		for x := range llm.ImageSize {
			i := (y*llm.ImageSize + x) * llm.ImageChannels
			img.SetRGBA(x, y, color.RGBA{q(v[i]), q(v[i+1]), q(v[i+2]), 255})
		}
	}
	return img
}

// imageValues is PixelImage's inverse for an llm.ImageSize square image.
func imageValues(img image.Image) ([]float32, error) {
	b := img.Bounds()
	if b.Dx() != llm.ImageSize || b.Dy() != llm.ImageSize {
		return nil, fmt.Errorf("semantic: image of %dx%d, want %dx%d", b.Dx(), b.Dy(), llm.ImageSize, llm.ImageSize)
	}
	v := make([]float32, 0, llm.ImageSize*llm.ImageSize*llm.ImageChannels)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			v = append(v, float32(c.R)/255, float32(c.G)/255, float32(c.B)/255)
		}
	}
	return v, nil
}

// GreyImage is what a receiver shows for an image that did not arrive: mid-grey.
func GreyImage() []float32 {
	v := make([]float32, llm.ImageSize*llm.ImageSize*llm.ImageChannels)
	for i := range v {
		v[i] = 0.5
	}
	return v
}

// jpegHeader is the start of Go's JPEG file of an llm.ImageSize square RGBA image at
// quality q, up to and including the scan header: SOI, DQT, SOF0, DHT and SOS
// (T.81 B.2), the same for every such image.
func jpegHeader(q int) ([]byte, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, llm.ImageSize, llm.ImageSize)), &jpeg.Options{Quality: q}); err != nil {
		return nil, err
	}
	f := b.Bytes()
	sos := bytes.Index(f, []byte{0xff, 0xda})
	if sos < 0 || sos+4 > len(f) {
		return nil, errors.New("semantic: JPEG without a scan header")
	}
	return f[:sos+2+int(f[sos+2])<<8|int(f[sos+3])], nil
}

// encodeJPEG returns the abbreviated JPEG payload of img at quality q: q, then the
// entropy-coded scan without its EOI marker.
func encodeJPEG(img image.Image, q int) ([]byte, error) {
	hdr, err := jpegHeader(q)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, err
	}
	f := b.Bytes()
	if !bytes.HasPrefix(f, hdr) || !bytes.HasSuffix(f, []byte{0xff, 0xd9}) {
		return nil, errors.New("semantic: JPEG encoder wrote headers that depend on the image")
	}
	return append([]byte{byte(q)}, f[len(hdr):len(f)-2]...), nil
}

// NoBudget, as EncodeImage's budget, sets no limit on the image's size.
const NoBudget = -1

// EncodeImage codes HWC values in [0, 1] as PNG, or as abbreviated JPEG at the
// highest quality (1 to 100) whose payload is at most budget octets (NoBudget, or
// any negative budget: quality 100). A budget of 0 octets is one that nothing fits.
// When not even quality 1 fits it is sent anyway and fits is false.
func EncodeImage(v []float32, f ImageFormat, budget int) (data []byte, quality int, fits bool, err error) {
	if len(v) != llm.ImageSize*llm.ImageSize*llm.ImageChannels {
		return nil, 0, false, fmt.Errorf("semantic: image of %d values, want %d", len(v), llm.ImageSize*llm.ImageSize*llm.ImageChannels)
	}
	img := PixelImage(v)
	switch f {
	case ImagePNG:
		var b bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&b, img); err != nil {
			return nil, 0, false, err
		}
		return b.Bytes(), 0, budget < 0 || b.Len() <= budget, nil
	case ImageJPEG:
		// Sizes grow with quality nearly but not strictly monotonically: take the
		// highest that fits.
		for q := 100; q >= 1; q-- {
			data, err := encodeJPEG(img, q)
			if err != nil {
				return nil, 0, false, err
			}
			if budget < 0 || len(data) <= budget || q == 1 {
				return data, q, budget < 0 || len(data) <= budget, nil
			}
		}
	}
	return nil, 0, false, fmt.Errorf("semantic: image format %q", f)
}

// DecodeImage decodes what EncodeImage wrote into HWC values in [0, 1].
func DecodeImage(f ImageFormat, data []byte) ([]float32, error) {
	var file []byte
	switch f {
	case ImagePNG:
		file = data
	case ImageJPEG:
		if len(data) < 1 || data[0] < 1 || data[0] > 100 {
			return nil, errors.New("semantic: abbreviated JPEG without a quality")
		}
		hdr, err := jpegHeader(int(data[0]))
		if err != nil {
			return nil, err
		}
		file = append(append(hdr, data[1:]...), 0xff, 0xd9)
	default:
		return nil, fmt.Errorf("semantic: image format %q", f)
	}
	// The size first, so no outside input makes the decoder allocate much.
	cfg, _, err := image.DecodeConfig(bytes.NewReader(file))
	if err != nil {
		return nil, fmt.Errorf("semantic: %s: %w", f, err)
	}
	if cfg.Width != llm.ImageSize || cfg.Height != llm.ImageSize {
		return nil, fmt.Errorf("semantic: %s of %dx%d, want %dx%d", f, cfg.Width, cfg.Height, llm.ImageSize, llm.ImageSize)
	}
	img, _, err := image.Decode(bytes.NewReader(file))
	if err != nil {
		return nil, fmt.Errorf("semantic: %s: %w", f, err)
	}
	return imageValues(img)
}

// WiFiFrameOctets is the most source octets one SchemeWiFi frame carries at rate: the
// PSDU's 4095 octets less the FCS, or fewer where the covering 6 Mbit/s SIGNAL cannot
// span the m4sc header and the DATA field (at 6 Mbit/s).
func WiFiFrameOctets(rate phy.Rate) int {
	maxSymbols := (8*phy.MaxPSDULength + phy.ServiceBits + phy.TailBits) / 24 // 1365
	n := ((maxSymbols-phy.SemanticHeaderSymbols)*rate.NDBPS - phy.ServiceBits - phy.TailBits) / 8
	return min(n, phy.MaxPSDULength) - phy.FCSLen
}

// BudgetOctets converts a budget of complex data symbols into the source octets that
// one frame at rate carries in them, counted as every scheme's data symbols are: the
// DATA field's whole OFDM symbols times 48 (SERVICE, tail, pad and the FCS included;
// preamble, SIGNAL and header not). It may be 0 or less: nothing fits.
func BudgetOctets(symbols int, rate phy.Rate) int {
	n := symbols / phy.DataCarriers
	return (n*rate.NDBPS-phy.ServiceBits-phy.TailBits)/8 - phy.FCSLen
}

// sendSeparate is Send for SchemeWiFi: the source coded without the model (text
// compressed, image as PNG or JPEG), the octets as one message of 802.11a DATA
// payloads at o.Rate.
func (c *Chain) sendSeparate(in llm.Input, o SendOptions, k int) (*Burst, error) {
	b := &Burst{Task: in.Task, Scheme: SchemeWiFi, RateMbps: o.Rate.Mbps}
	var data []byte
	src := sourceText
	if in.Task.Image() {
		f := o.Image
		if f == "" {
			f = ImagePNG
		}
		if _, err := ParseImageFormat(string(f)); err != nil {
			return nil, err
		}
		budget, octets := NoBudget, 0
		if f == ImageJPEG {
			symbols := o.SymbolBudget
			if symbols <= 0 {
				symbols = k * llm.ImageSlots
			}
			// A budget too small for any octet is still a budget: nothing fits,
			// quality 1 goes and says so.
			octets = BudgetOctets(symbols, o.Rate)
			budget = max(octets, 0)
		}
		var q int
		var fits bool
		var err error
		if data, q, fits, err = EncodeImage(in.Image, f, budget); err != nil {
			return nil, err
		}
		b.Format, src = string(f), sourcePNG
		if f == ImageJPEG {
			b.Format, src = fmt.Sprintf("jpeg q=%d", q), sourceJPEG
			if !fits {
				b.Note = fmt.Sprintf("JPEG at quality 1 takes %d octets, over the budget of %d at %d Mbit/s", len(data), max(octets, 0), o.Rate.Mbps)
			}
		}
	} else {
		b.Words = len(strings.Fields(in.Text))
		if b.Words == 0 {
			return nil, fmt.Errorf("semantic: %s: the text has no words", in.Task)
		}
		data = CompressText(nil, in.Text)
		b.Format = "brotli"
	}
	b.SourceOctets = len(data)
	tx, err := phy.NewTransmitter(phy.TransmitterConfig{})
	if err != nil {
		return nil, err
	}
	code := uint8(in.Task) | src<<5 | separateCoding
	if b.Frames, err = b.appendOctets(tx, data, WiFiFrameOctets(o.Rate), code, o.Message, o.Address, o.Rate); err != nil {
		return nil, err
	}
	b.Messages = 1
	return b, nil
}

// decodeSeparate is decodeMessage for SchemeWiFi: a frame lost or failing its FCS
// loses what it carried. A text shows what decodes before the first gap (nothing when
// the first frame is lost), an image that cannot be decoded shows as GreyImage. Tasks
// other than text.transmit and image.reconstruct run the model on what arrived: in
// separate coding the model sits at the receiver.
func (c *Chain) decodeSeparate(m *message, o ReceiveOptions, r Received) (Received, error) {
	r.RateMbps = m.rate.Mbps
	data, failed, whole := m.octets(WiFiFrameOctets(m.rate))
	r.Lost += failed
	gap := ""
	if r.Lost > 0 {
		gap = fmt.Sprintf("%d of %d frames lost", r.Lost, r.Frames)
	}
	var in llm.Input
	in.Task = m.task
	switch m.source {
	case sourceText:
		r.Format = "brotli"
		text, err := DecompressText(data[:whole])
		switch {
		case r.Lost > 0 && text == "":
			r.Partial = gap + "; no text"
		case r.Lost > 0:
			// The last word may be cut.
			if i := strings.LastIndexByte(text, ' '); i > 0 {
				text = text[:i]
			}
			r.Partial = gap + "; the text before the first gap"
		case err != nil:
			r.Partial = fmt.Sprintf("text damaged: %v", err)
		}
		in.Text = text
		if m.task == llm.TextTransmit || strings.TrimSpace(text) == "" {
			r.Text = text
			return r, nil
		}
	case sourcePNG, sourceJPEG:
		f := ImagePNG
		if m.source == sourceJPEG {
			f = ImageJPEG
		}
		r.Format = string(f)
		var err error
		if r.Lost > 0 {
			err = errors.New(gap)
		} else {
			in.Image, err = DecodeImage(f, data)
		}
		if err != nil {
			in.Image = GreyImage()
			r.Partial = fmt.Sprintf("%v; the image shows as mid-grey", err)
		}
		if m.task == llm.ImageReconstruct {
			r.Image = in.Image
			return r, nil
		}
	default:
		return r, fmt.Errorf("semantic: message %d: source format %d unknown", m.num, m.source)
	}
	sem, err := c.Model.Encode(in)
	if err != nil {
		return r, err
	}
	out, err := c.runTask(sem, m, o)
	if err != nil {
		return r, err
	}
	r.Text, r.Image = out.Text, out.Image
	return r, nil
}
