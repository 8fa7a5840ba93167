package phy

import (
	"bytes"
	"testing"
)

func TestFCS(t *testing.T) {
	psdu := txReadPSDU(t)
	if CheckFCS(psdu) {
		t.Error("psdu.hex carries the 1999 text's FCS, which is wrong, yet CheckFCS accepts it")
	}
	body := psdu[:len(psdu)-FCSLen]
	fixed := AppendFCS(bytes.Clone(body))
	if want := []byte{0x67, 0x33, 0x21, 0xb6}; !bytes.Equal(fixed[len(body):], want) {
		t.Errorf("FCS of the example's first %d octets = % x, want % x (later editions' value)", len(body), fixed[len(body):], want)
	}
	if !CheckFCS(fixed) {
		t.Error("CheckFCS rejects a frame just given its FCS")
	}
	for i := range fixed {
		c := bytes.Clone(fixed)
		c[i] ^= 0x10
		if CheckFCS(c) {
			t.Fatalf("CheckFCS accepts a frame with octet %d corrupted", i)
		}
	}
	for n := range FCSLen {
		if CheckFCS(make([]byte, n)) {
			t.Errorf("CheckFCS accepts %d octets", n)
		}
	}
	if !CheckFCS(AppendFCS(nil)) {
		t.Error("CheckFCS rejects an empty frame with its FCS")
	}
}
