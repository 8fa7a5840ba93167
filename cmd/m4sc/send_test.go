package main

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/semantic"
)

// tinyCodec writes an untrained codec for tests of the plumbing: the digital scheme
// does not use it, but the chain needs one.
func tinyCodec(t *testing.T, dir string) string {
	t.Helper()
	c, err := semantic.NewCodec(semantic.CodecConfig{Hidden: 4}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "codec.safetensors")
	if err := c.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// send --out then receive --in round-trips a text through a recording (digital
// scheme: quantised semantics, exact at no noise), and the recording's annotation
// says what it carries.
func TestSendReceiveRecording(t *testing.T) {
	dir := isolate(t)
	codec := tinyCodec(t, dir)
	rec := filepath.Join(dir, "msg.sigmf-meta")
	text := "we the people of the united states"
	code, out, errOut := runM4sc(t, "send", "--task", "text.transmit", "--text", text, "--scheme", "digital", "--codec", codec, "--out", rec)
	if code != 0 {
		t.Fatalf("send: rc %d: %s %s", code, out, errOut)
	}
	if !strings.Contains(out, "1 messages, 1 frames") {
		t.Errorf("send said %q", out)
	}
	code, out, errOut = runM4sc(t, "receive", "--in", rec, "--codec", codec)
	if code != 0 {
		t.Fatalf("receive: rc %d: %s %s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != text {
		t.Errorf("received %q, sent %q (output %q)", last, text, out)
	}
	if !strings.Contains(lines[0], `"scheme":"digital"`) || !strings.Contains(lines[0], `"frames_lost":0`) {
		t.Errorf("message line %q", lines[0])
	}
	// The same output again is refused without --force.
	if code, _, errOut := runM4sc(t, "send", "--task", "text.transmit", "--text", text, "--codec", codec, "--out", rec); code == 0 || !strings.Contains(errOut, "exists") {
		t.Errorf("send over an existing recording: rc %d, %q", code, errOut)
	}
}

// Bad input to send and receive is refused with a message naming it.
func TestSendReceiveBadInput(t *testing.T) {
	dir := isolate(t)
	codec := tinyCodec(t, dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "--task", "text.transmit", "--text", "hi", "--codec", codec}, "exactly one of --out"},
		{[]string{"send", "--task", "text.transmit", "--text", "hi", "--codec", codec, "--out", "a.sigmf-meta", "--scheme", "morse"}, "scheme"},
		{[]string{"send", "--task", "text.transmit", "--text", "hi", "--codec", codec, "--out", "a.sigmf-meta", "--bandwidth", "-3"}, "bandwidth"},
		{[]string{"send", "--task", "text.transmit", "--text", "hi", "--codec", codec, "--out", "a.sigmf-meta", "--bandwidth", "1/0"}, "bandwidth"},
		{[]string{"send", "--task", "image.caption", "--text", "hi", "--codec", codec, "--out", "a.sigmf-meta"}, "one image"},
		{[]string{"send", "--task", "nope", "--text", "hi", "--codec", codec, "--out", "a.sigmf-meta"}, "--task"},
		{[]string{"send", "--task", "text.transmit", "--text", "hi", "--codec", codec, "--out", "a.sigmf-meta", "--snr-hint", "NaN"}, "snr-hint"},
		{[]string{"receive", "--codec", codec}, "exactly one of --in"},
		{[]string{"receive", "--in", filepath.Join(dir, "none.sigmf-meta"), "--codec", codec}, "none.sigmf"},
		{[]string{"receive", "--in", "x.sigmf-meta", "--codec", filepath.Join(dir, "missing.safetensors")}, "missing.safetensors"},
	} {
		code, _, errOut := runM4sc(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: rc %d, stderr %q; want an error naming %q", c.args, code, errOut, c.want)
		}
	}
}
