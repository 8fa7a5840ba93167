package main

import (
	"math/rand/v2"
	"os"
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

// The 80211a scheme round-trips a text and an image through a recording, and its
// annotation carries the scheme and the channel use as the others' do.
func TestSendReceive80211a(t *testing.T) {
	dir := isolate(t)
	codec := tinyCodec(t, dir)
	rec := filepath.Join(dir, "wifi.sigmf-meta")
	text := "we the people of the united states"
	code, out, errOut := runM4sc(t, "send", "--task", "text.transmit", "--text", text, "--scheme", "80211a", "--rate", "36", "--codec", codec, "--out", rec)
	if code != 0 {
		t.Fatalf("send: rc %d: %s %s", code, out, errOut)
	}
	meta, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"m4sc:scheme": "80211a"`, `"m4sc:data_symbols"`, `"m4sc:airtime_us"`, `"m4sc:words": 7`, `"m4sc:rate_mbps": 36`} {
		if !strings.Contains(string(meta), want) {
			t.Errorf("annotation lacks %s: %s", want, meta)
		}
	}
	code, out, errOut = runM4sc(t, "receive", "--in", rec, "--codec", codec)
	if code != 0 {
		t.Fatalf("receive: rc %d: %s %s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != text || !strings.Contains(lines[0], `"scheme":"80211a"`) {
		t.Errorf("received %q", out)
	}
	png := filepath.Join(dir, "r.png")
	code, out, errOut = runM4sc(t, "send", "--task", "image.reconstruct", "--scene", "5", "--scheme", "80211a", "--image-format", "jpeg", "--bandwidth", "1/4", "--codec", codec, "--out", rec, "--force")
	if code != 0 || !strings.Contains(out, "jpeg q=") {
		t.Fatalf("send: rc %d: %s %s", code, out, errOut)
	}
	if code, out, errOut = runM4sc(t, "receive", "--in", rec, "--codec", codec, "--out", png); code != 0 || !strings.Contains(out, `"format":"jpeg"`) {
		t.Fatalf("receive: rc %d: %s %s", code, out, errOut)
	}
	if _, err := os.Stat(png); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "--task", "text.transmit", "--text", "hi", "--codec", codec, "--out", "a.sigmf-meta", "--scheme", "80211a", "--rate", "7"}, "--rate"},
		{[]string{"send", "--task", "image.caption", "--scene", "1", "--codec", codec, "--out", "a.sigmf-meta", "--scheme", "80211a", "--image-format", "gif"}, "--image-format"},
		{[]string{"ask", "--task", "text.transmit", "--text", "hi", "--scheme", "80211a"}, "--channel"},
	} {
		code, _, errOut := runM4sc(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: rc %d, stderr %q; want an error naming %q", c.args, code, errOut, c.want)
		}
	}
}
