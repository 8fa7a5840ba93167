package semantic

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/m4sc/m4sc/llm"
	"github.com/m4sc/m4sc/phy"
)

// ReadCodec on any bytes returns a codec or an error, never panics, and a codec it
// accepts encodes to finite symbols.
func FuzzReadCodec(f *testing.F) {
	c, err := NewCodec(CodecConfig{Hidden: 2}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "c.safetensors")
	if err := c.Save(path, nil); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("{}"))
	f.Add(bytes.Replace(good, []byte(`"hidden":2`), []byte(`"hidden":99999`), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ReadCodec(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		sym, err := c.Encode(nil, make([]float32, c.Config().SemDim), 1, Bandwidths[0], false, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sym {
			if s != s {
				t.Fatalf("accepted codec encodes NaN")
			}
		}
	})
}

// Receive takes any frames the PHY could hand it (any header fields, payload sizes,
// digital PSDUs) without panicking.
func FuzzReceiveFrames(f *testing.F) {
	m, err := shippedModelOrNil()
	if err != nil {
		f.Skip(err)
	}
	c, err := NewCodec(CodecConfig{Hidden: 2}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		f.Fatal(err)
	}
	ch, err := NewChain(m, c)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), uint16(0), uint16(10), uint8(0), []byte{1, 2, 3})
	f.Add(uint8(3|1<<5), uint16(0x0110), uint16(64), uint8(0), []byte{})
	f.Add(uint8(5|2<<5), uint16(0x0fff), uint16(2304), uint8(3), []byte{0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, task uint8, seq, length uint16, scheme uint8, psdu []byte) {
		h := phy.SemanticHeader{Version: phy.SemanticVersion, Kind: phy.KindSemantic, Address: 1, Task: task, Sequence: seq, Length: length % 4096, Scheme: scheme % 9}
		fr := phy.Frame{Kind: phy.KindSemantic, Header: h, SNR: 10}
		if h.Scheme == phy.SchemeAnalog {
			fr.Symbols = make([]complex64, h.Length)
		} else {
			fr.PSDU = psdu
		}
		for i := range fr.SubcarrierSNR {
			fr.SubcarrierSNR[i] = 10
		}
		_, _ = ch.Receive([]phy.Frame{fr, fr}, ReceiveOptions{Question: "what color is the circle?"})
	})
}

func shippedModelOrNil() (*llm.Model, error) {
	return loadShippedModel()
}

// The 80211a scheme's source decoders take whatever a frame that passed its FCS
// carried, which a hostile transmitter chooses: they return an error or a result,
// never panic, and a decoded image always has the model's size.
func FuzzSeparateDecoders(f *testing.F) {
	img := make([]float32, llm.ImagePixels)
	for i := range img {
		img[i] = float32(i%7) / 7
	}
	for _, format := range []ImageFormat{ImagePNG, ImageJPEG} {
		data, _, _, err := EncodeImage(img, format, 4000)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, format == ImageJPEG)
	}
	f.Add(CompressText(nil, "we the people of the united states"), false)
	f.Add([]byte{50, 0xff, 0xd8}, true)
	f.Fuzz(func(t *testing.T, data []byte, jpeg bool) {
		if len(data) > 1<<14 {
			return
		}
		if s, err := DecompressText(data); err == nil && len(s) > maxText {
			t.Fatalf("decompressed %d bytes, more than the %d allowed", len(s), maxText)
		}
		format := ImagePNG
		if jpeg {
			format = ImageJPEG
		}
		v, err := DecodeImage(format, data)
		if err == nil && len(v) != llm.ImagePixels {
			t.Fatalf("decoded %d values, want %d", len(v), llm.ImagePixels)
		}
	})
}
