package phy

import (
	"bufio"
	"encoding/hex"
	"math/cmplx"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The standard's worked example (802.11a-1999 Annex G, 802.11-2020 Annex I), as tables in
// the shared test-vector folder beside the repository.
const txAnnexGDir = "../../shared/testvectors/ieee80211a-annex-g"

// The tables hold the standard's values rounded to three decimals (written with four):
// up to 5e-4 per component, 7.1e-4 in magnitude. A bound of 1e-3 per sample
// leaves room for that and little else.
const txAnnexGTol = 1e-3

// txAnnexGInit is the example's scrambler initial state 1011101.
const txAnnexGInit = 0b1011101

// txAnnexGPath returns the path of a test-vector file, skipping the test when the
// folder is absent.
func txAnnexGPath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(txAnnexGDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("IEEE 802.11a Annex G test vectors not found (%v): expected the shared folder at %s relative to the phy package", err, txAnnexGDir)
	}
	return p
}

// txReadTable reads a table of "index real imag" lines ('#' starts a comment) and
// returns the values and their indices.
func txReadTable(t testing.TB, name string) (idx []int, val []complex128) {
	t.Helper()
	f, err := os.Open(txAnnexGPath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		fs := strings.Fields(s)
		if len(fs) != 3 {
			t.Fatalf("%s:%d: want 3 fields, have %q", name, line, s)
		}
		i, err1 := strconv.Atoi(fs[0])
		re, err2 := strconv.ParseFloat(fs[1], 64)
		im, err3 := strconv.ParseFloat(fs[2], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("%s:%d: cannot parse %q", name, line, s)
		}
		idx = append(idx, i)
		val = append(val, complex(re, im))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return idx, val
}

func txReadPSDU(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(txAnnexGPath(t, "psdu.hex"))
	if err != nil {
		t.Fatal(err)
	}
	psdu, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("psdu.hex: %v", err)
	}
	return psdu
}

// txCompare checks got against the table want and returns the largest error.
func txCompare(t *testing.T, name string, got []complex64, want []complex128) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d samples, table has %d", name, len(got), len(want))
	}
	worst, at := 0.0, 0
	bad := 0
	for i := range want {
		e := cmplx.Abs(complex128(got[i]) - want[i])
		if e > worst {
			worst, at = e, i
		}
		if e > txAnnexGTol {
			if bad < 5 {
				t.Errorf("%s[%d] = %.4f, want %.4f (error %.2g)", name, i, got[i], want[i], e)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d samples off by more than %g", name, bad, len(want), txAnnexGTol)
	}
	t.Logf("%s: %d samples, max error %.3g at %d", name, len(want), worst, at)
	return worst
}

func txAnnexGRate(t *testing.T) Rate {
	r, err := RateByMbps(36)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAnnexGPacket feeds psdu.hex at 36 Mbit/s to the transmitter and compares every
// one of the 881 samples with packet.txt.
func TestAnnexGPacket(t *testing.T) {
	psdu := txReadPSDU(t)
	_, want := txReadTable(t, "packet.txt")
	tx, err := NewTransmitter(TransmitterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rate := txAnnexGRate(t)
	if n := tx.PacketLen(len(psdu), rate); n != len(want) {
		t.Errorf("PacketLen = %d, want %d", n, len(want))
	}
	got := tx.Packet(nil, psdu, rate, txAnnexGInit)
	txCompare(t, "packet", got, want)
	// A second packet from the same transmitter must not depend on the first.
	again := tx.Packet(got[:0:0], psdu, rate, txAnnexGInit)
	for i := range got {
		if again[i] != got[i] {
			t.Fatalf("second packet differs at sample %d", i)
		}
	}
}

// TestAnnexGFields compares the separate fields with their tables: the training fields
// and SIGNAL in time, each on its own with both ends windowed, and the frequency-domain
// tables recovered from the packet by a forward FFT of the symbols' useful parts (where
// windowing does not reach).
func TestAnnexGFields(t *testing.T) {
	m, err := NewOFDMModulator(WindowingStandard)
	if err != nil {
		t.Fatal(err)
	}
	_, short := txReadTable(t, "short_time.txt")
	txCompare(t, "short_time", m.Flush(m.AppendSTF(nil)), short)
	_, long := txReadTable(t, "long_time.txt")
	txCompare(t, "long_time", m.Flush(m.AppendLTF(nil)), long)

	tx, err := NewTransmitter(TransmitterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rate := txAnnexGRate(t)
	psdu := txReadPSDU(t)
	_, sigTime := txReadTable(t, "signal_time.txt")
	tx.Reset()
	sig := tx.mod.Flush(tx.appendSignal(nil, SignalField{Rate: rate, Length: len(psdu)}))
	txCompare(t, "signal_time", sig, sigTime)

	// Frequency tables by subcarrier (-32..31): the training sequences.
	for _, c := range []struct {
		name string
		seq  []complex64
	}{
		{"short_freq.txt", func() []complex64 { s := STFSequence(); return s[:] }()},
		{"long_freq.txt", func() []complex64 {
			var s []complex64
			for _, v := range LTFSequence() {
				s = append(s, complex(v, 0))
			}
			return s
		}()},
	} {
		idx, want := txReadTable(t, c.name)
		got := make([]complex64, len(idx))
		for i, k := range idx {
			if k >= -26 && k <= 26 {
				got[i] = c.seq[k+26]
			}
		}
		txCompare(t, c.name, got, want)
	}

	// Frequency tables in IFFT input order from the packet itself.
	pkt := tx.Packet(nil, psdu, rate, txAnnexGInit)
	fft := NewFFT64()
	for _, c := range []struct {
		name  string
		start int // first sample of the symbol, cyclic prefix included
	}{
		{"signal_freq.txt", PreambleLen},
		{"data1_freq.txt", PreambleLen + SymbolLen},
	} {
		idx, want := txReadTable(t, c.name)
		var td, bins [FFTSize]complex64
		copy(td[:], pkt[c.start+CPLen:])
		fft.Forward(&bins, &td)
		got := make([]complex64, len(idx))
		for i, k := range idx {
			got[i] = bins[k]
		}
		txCompare(t, c.name, got, want)
	}
}
