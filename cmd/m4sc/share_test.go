package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

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
