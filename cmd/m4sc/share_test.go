package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m4sc/m4sc/sharing"
)

// Bad --users and device lists are named before anything runs.
func TestShareCLIErrors(t *testing.T) {
	isolate(t)
	base := []string{"share", "--out", "out", "--n", "1"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--users", "0"}, "--users 0: want 1 to 64"},
		{[]string{"--copy-users", "-1"}, "--copy-users -1: want 0 (one copy) to 64"},
		{[]string{"--users", "1,2,65"}, "--users 65: want 1 to 64"},
		{[]string{"--users", "1,x"}, `--users "1,x"`},
		{[]string{"--users", "2,2"}, `--users "2,2": 2 twice`},
		{[]string{"--users", "2", "--rx", "loopback,loopback,seed=2"}, "--rx without --tx"},
		{[]string{"--users", "2", "--tx", "loopback"}, "--tx without --rx"},
		{[]string{"--users", "3", "--tx", "loopback", "--rx", "loopback,snr=3,loopback,snr=9"}, "2 receiving devices for 3 users"},
		{[]string{"--users", "2", "--tx", "loopback", "--rx", "loopback,snr=3", "--rx", "loopback,snr=3"}, `receiver 2, "loopback,snr=3", is receiver 1 again`},
		{[]string{"--users", "2", "--tx", "loopback", "--rx", "loopback,snr=3,,loopback"}, `--rx: sharing: bad devices: list "loopback,snr=3,,loopback": an empty item`},
		{[]string{"--users", "2", "--tx", "loopback", "--rx", "loopback,Snr=3,loopback"}, `--rx: sharing: bad devices: device 1 of the list: radio: device "loopback,Snr=3"`},
		{[]string{"--users", "2", "--tx", "loopback", "--rx", "loopback,snr=3,loopback,colour=red"}, "--rx: device 2"},
		{[]string{"--users", "2", "--tx", "nosuch", "--rx", "loopback,loopback,seed=2"}, "--tx: "},
		{[]string{"--users", "1,2", "--tx", "loopback", "--rx", "loopback"}, "--users takes one count"},
		{[]string{"--users", "2", "--channel", "epa", "--tx", "loopback", "--rx", "loopback,loopback,seed=2"}, "--channel with --tx and --rx"},
	} {
		code, _, errOut := runM4sc(t, append(base, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
}

// m4sc share over explicit loopback device strings, and over several K with the plot.
func TestShareCLIDevices(t *testing.T) {
	isolate(t)
	code, out, errOut := runM4sc(t, "share", "--users", "2", "--n", "1", "--out", "dev",
		"--tx", "loopback,air=cli", "--rx", "loopback,air=cli,snr=12,channel=epa,loopback,air=cli,snr=25")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum sharing.Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || sum.Channel != "devices" || len(sum.Devices) != 3 || sum.AirtimeUSWiFi <= 0 || len(sum.PerUser) != 2 {
		t.Fatalf("%d lines, summary %+v", len(lines), sum)
	}
	md, err := os.ReadFile("dev/share.md")
	if err != nil || !strings.Contains(string(md), "Devices: tx loopback,air=cli; rx ") || !strings.Contains(string(md), "unicast 802.11a") {
		t.Errorf("share.md: %v\n%s", err, md)
	}
	code, out, errOut = runM4sc(t, "share", "--users", "1,2", "--n", "1", "--out", "k")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, `"airtime_us_80211a"`); n != 2 {
		t.Errorf("%d summaries, want 2", n)
	}
	for _, f := range []string{"k/share.csv", "k/share.md", "k/share-users.png"} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// addrWriter collects a command's stderr and hands over the monitor's address once it
// is printed.
type addrWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
	sent bool
}

func (w *addrWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if _, rest, ok := strings.Cut(w.buf.String(), "monitor: http://"); ok && !w.sent {
		if at, _, ok := strings.Cut(rest, "/"); ok {
			w.addr <- at
			w.sent = true
		}
	}
	return len(p), nil
}

func (w *addrWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// gateWriter holds every write until open is closed: a command writing its output to
// it cannot finish before then.
type gateWriter struct {
	open chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (w *gateWriter) Write(p []byte) (int, error) {
	<-w.open
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// m4sc share --serve: while the rounds run, the live monitor's event stream carries
// every user's decoded messages, labelled with the user, under each scheme, and the
// running metrics per user and scheme. The run's first line of output waits until the
// test is connected, so the run cannot end (and its monitor stop) before; a page
// opened late is sent the messages so far.
func TestShareServe(t *testing.T) {
	isolate(t)
	errOut := &addrWriter{addr: make(chan string, 1)}
	out := &gateWriter{open: make(chan struct{})}
	opened := false
	release := func() {
		if !opened {
			close(out.open)
			opened = true
		}
	}
	defer release()
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"share", "--users", "2", "--n", "2", "--snr", "20:25", "--out", "srv", "--serve", "127.0.0.1:0"}, out, errOut)
	}()
	var addr string
	select {
	case addr = <-errOut.addr:
	case code := <-done:
		t.Fatalf("exit %d before the monitor served: %s", code, errOut)
	case <-time.After(time.Minute):
		t.Fatalf("no monitor address after a minute: %s", errOut)
	}
	resp, err := http.Get("http://" + addr + "/events")
	release()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	// The stream ends when the run does (its monitor stops with it).
	type event struct {
		User     *int    `json:"user"`
		Scheme   string  `json:"scheme"`
		Task     string  `json:"task"`
		Received string  `json:"received"`
		Value    float64 `json:"value"`
	}
	seen := map[string]bool{} // user/scheme of messages with something received
	var metrics string
	kind := ""
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		line := sc.Text()
		if k, ok := strings.CutPrefix(line, "event: "); ok {
			kind = k
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		switch kind {
		case "message":
			var e event
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Fatalf("message %s: %v", data, err)
			}
			if e.User == nil {
				t.Fatalf("message without its user: %s", data)
			}
			if e.Received != "" || e.Task == "image.reconstruct" {
				seen[fmt.Sprintf("%d/%s", *e.User, e.Scheme)] = true
			}
		case "metrics":
			metrics = data
		}
	}
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for u := range 2 {
		for _, s := range []string{sharing.SchemeShared, sharing.SchemeUnicast, sharing.SchemeWiFi} {
			if !seen[fmt.Sprintf("%d/%s", u, s)] {
				t.Errorf("no decoded message of user %d under %s; seen %v", u, s, seen)
			}
		}
	}
	if !strings.Contains(metrics, `"user":1`) || !strings.Contains(metrics, `"scheme":"shared"`) {
		t.Errorf("metrics per user and scheme: %s", metrics)
	}
	if n := strings.Count(out.buf.String(), "\n"); n != 2*2+1 {
		t.Errorf("%d lines of output, want 5", n)
	}
}
