package monitor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/m4sc/m4sc/llm/weights"
	"github.com/m4sc/m4sc/semantic"
	semweights "github.com/m4sc/m4sc/semantic/weights"
	"github.com/m4sc/m4sc/trial"
)

// TestNeverBlocks: with nobody draining the monitor (its goroutine not even started),
// the sink calls return at once and what does not fit is dropped.
func TestNeverBlocks(t *testing.T) {
	m := New("t")
	y := make([]complex64, 1<<16)
	res := &trial.Result{Scheme: "semantic", Received: "x"}
	began := time.Now()
	for range 10 * QueueLen {
		m.Result(res)
		m.Received(trial.RunInfo{}, y, nil)
		m.Stream(y)
	}
	if d := time.Since(began); d > time.Second {
		t.Errorf("%d sink calls took %v", 30*QueueLen, d)
	}
	if m.Dropped() < int64(9*QueueLen) {
		t.Errorf("dropped %d updates, want at least %d", m.Dropped(), 9*QueueLen)
	}
}

// browser finds Debian's chromium (or another Chrome).
func browser(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium in PATH: apt-get install chromium (.ci/run does) to run the browser test")
	return ""
}

const browserPlan = `name: lab
seed: 4
tx: loopback:hackrf
rx: loopback:hackrf
steps:
  - name: text
    task: text.transmit
    content: {texts: ["the state of our union is strong", "we will meet again"]}
    schemes: [semantic, 80211a]
    snr: [8, 25]
  - name: caption
    task: image.caption
    content: {index: [0, 1]}
    schemes: [semantic, digital]
    snr: [25]
  - name: reconstruct
    task: image.reconstruct
    content: {index: [2]}
    schemes: [semantic]
    snr: [25]
`

// TestBrowser drives the page in headless chromium during a loopback trial: it loads,
// goes live, draws the updates the trial pushes, shows the decoded messages and a
// reconstructed image's thumbnail, and logs no console error. With
// M4SC_MONITOR_SCREENSHOT=FILE.png it saves a screenshot of the page (docs/monitor.png).
func TestBrowser(t *testing.T) {
	exe := browser(t)
	if !weights.HasModel() {
		t.Skip("no shipped model in this build")
	}
	model, err := weights.Model()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := semweights.Codec()
	if err != nil {
		t.Skip(err)
	}
	chain, err := semantic.NewChain(model, codec)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := trial.Parse([]byte(browserPlan))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m := New(plan.Name)
	addr, err := m.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1000), chromedp.UserDataDir(t.TempDir()))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	var mu sync.Mutex
	var problems []string
	err = chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, fmt.Sprintf("exception: %s %+v", ev.ExceptionDetails.Text, ev.ExceptionDetails.Exception))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				problems = append(problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	if _, err := chromedp.Call(bctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	url := "http://" + addr.String() + "/"
	if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitVisible("#status.on")); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
	t.Logf("page live in %v", time.Since(began).Round(time.Millisecond))

	if err := trial.Run(ctx, plan, filepath.Join(t.TempDir(), "trial"), trial.Options{Chain: chain, Version: "test", Sinks: []trial.Sink{m}}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.WaitVisible(`#feed img`)); err != nil {
		t.Fatalf("waiting for the thumbnail: %v", err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelectorAll("#feed li.msg").length >= 13`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("waiting for the trial's 13 messages: %v", err)
	}
	feed, err := chromedp.Run(bctx, chromedp.Text("#feed"))
	if err != nil {
		t.Fatal(err)
	}
	updates, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.dataset.updates`))
	if err != nil {
		t.Fatal(err)
	}
	thumbs, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#feed img[src^='data:image/png;base64,']").length`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s updates drawn, %d dropped, in %v", updates, m.Dropped(), time.Since(began).Round(time.Millisecond))
	for _, want := range []string{"the state of our union is strong", "run 0 · semantic", "image.caption"} {
		if !strings.Contains(feed, want) {
			t.Errorf("feed lacks %q:\n%s", want, feed)
		}
	}
	if thumbs != 1 {
		t.Errorf("%d image thumbnails, want 1", thumbs)
	}
	metrics, err := chromedp.Run(bctx, chromedp.Text("#metrics"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"semantic", "80211a", "digital"} {
		if !strings.Contains(metrics, s) {
			t.Errorf("metrics lack %s: %q", s, metrics)
		}
	}
	if path := os.Getenv("M4SC_MONITOR_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s: %d bytes", path, len(png))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
}

// The monitor is a trial.StreamSink.
var _ trial.StreamSink = (*Monitor)(nil)

// BenchmarkStream: what the monitor costs the receive path per 64k-sample buffer.
func BenchmarkStream(b *testing.B) {
	m := New("b")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	y := make([]complex64, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.Stream(y)
	}
	b.ReportMetric(float64(len(y))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Msps")
}
