package main

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/m4sc/m4sc/sharing"
)

// shareLines reads share's output: the lines, then the summary.
func shareLines(t *testing.T, out string) ([]sharing.Line, sharing.Summary) {
	t.Helper()
	rows := strings.Split(strings.TrimSpace(out), "\n")
	var lines []sharing.Line
	for _, r := range rows[:len(rows)-1] {
		var l sharing.Line
		if err := json.Unmarshal([]byte(r), &l); err != nil {
			t.Fatalf("%v: %s", err, r)
		}
		lines = append(lines, l)
	}
	var s sharing.Summary
	if err := json.Unmarshal([]byte(rows[len(rows)-1]), &s); err != nil {
		t.Fatal(err)
	}
	return lines, s
}

// m4sc share --record, then --replay: the recordings are where the help says, and the
// replay prints the run's output and writes its results.jsonl byte for byte, from the
// directory's recordings or from the same recordings named by --rx.
func TestShareRecordReplay(t *testing.T) {
	isolate(t)
	code, want, errOut := runM4sc(t, "share", "--users", "2", "--n", "2", "--channel", "epa", "--record", "--out", "rec")
	if code != 0 {
		t.Fatalf("record: exit %d: %s", code, errOut)
	}
	for _, f := range []string{"results.jsonl", "share.csv", "share.md", "recordings/air.sigmf-meta", "recordings/air.sigmf-data",
		"recordings/user-00.sigmf-meta", "recordings/user-00.sigmf-data", "recordings/user-01.sigmf-meta", "recordings/user-01.sigmf-data"} {
		if st, err := os.Stat(filepath.Join("rec", f)); err != nil || st.Size() == 0 {
			t.Errorf("rec/%s: %v", f, err)
		}
	}
	stored, err := os.ReadFile("rec/results.jsonl")
	if err != nil || string(stored) != want {
		t.Fatalf("results.jsonl is not what was printed: %v\n%s", err, stored)
	}
	code, got, errOut := runM4sc(t, "share", "--replay", "rec")
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	if got != want || !strings.Contains(errOut, "rec/replay/results.jsonl is identical to rec/results.jsonl") {
		t.Errorf("replay printed\n%s\nthe run\n%s\nstderr %s", got, want, errOut)
	}
	if b, err := os.ReadFile("rec/replay/results.jsonl"); err != nil || string(b) != want {
		t.Errorf("rec/replay/results.jsonl: %v\n%s", err, b)
	}
	if md, err := os.ReadFile("rec/replay/share.md"); err != nil || !strings.Contains(string(md), "Replayed from rec/recordings.") {
		t.Errorf("share.md: %v\n%s", err, md)
	}
	// Given the recordings directory itself, the run's results are still found.
	code, got, errOut = runM4sc(t, "share", "--replay", "rec/recordings/", "--force")
	if code != 0 || got != want || !strings.Contains(errOut, "rec/replay/results.jsonl is identical to rec/results.jsonl") {
		t.Errorf("replay of rec/recordings/: exit %d, stderr %s\n%s", code, errOut, got)
	}
	code, got, errOut = runM4sc(t, "share", "--replay", "rec", "--out", "again",
		"--rx", "file:rec/recordings/user-00.sigmf-meta,file:rec/recordings/user-01.sigmf-data")
	if code != 0 || got != want || !strings.Contains(errOut, "identical") {
		t.Errorf("replay with --rx: exit %d, stderr %s\n%s", code, errOut, got)
	}
}

// Bad --record and --replay use is named before anything runs, and bad recordings
// with what is wrong.
func TestShareRecordErrors(t *testing.T) {
	isolate(t)
	if code, _, errOut := runM4sc(t, "share", "--users", "2", "--n", "1", "--record", "--out", "rec"); code != 0 {
		t.Fatalf("record: exit %d: %s", code, errOut)
	}
	if err := os.Truncate("rec/recordings/user-01.sigmf-data", 8*5000); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"share", "--users", "1,2", "--record", "--out", "r2"}, `--record with --users "1,2": record one user count at a time`},
		{[]string{"share", "--users", "2", "--n", "1", "--record", "--out", "rec"}, "rec/share.csv exists; add --force"},
		{[]string{"share", "--replay", "rec", "--users", "3"}, "--users with --replay: the recording says what the run was"},
		{[]string{"share", "--replay", "nowhere"}, "--replay nowhere: no air.sigmf-meta there or in nowhere/recordings"},
		{[]string{"share", "--replay", "rec", "--out", "r3", "--rx", "file:rec/recordings/user-00.sigmf-meta"}, "1 recordings for the 2 users the run had"},
		{[]string{"share", "--replay", "rec", "--out", "r4", "--rx", "file:rec/recordings/user-00.sigmf-meta,file:rec/recordings/user-00.sigmf-meta"},
			"user 1's recording \"file:rec/recordings/user-00.sigmf-meta\": the recording of user 0, given for user 1"},
		{[]string{"share", "--replay", "rec", "--out", "r5"}, `user 1's recording "file:rec/recordings/user-01.sigmf-meta": cut short`},
		{[]string{"share", "--replay", "rec", "--out", "r6", "--rx", "file:rec/recordings/user-00.sigmf-meta,file:none.sigmf-meta"}, "no such file none.sigmf-meta"},
		{[]string{"share", "--users", "2", "--n", "1", "--out", "r7", "--tx", "loopback", "--rx", "loopback,file:rec/recordings/user-01.sigmf-meta"},
			`--rx: device 2, "file:rec/recordings/user-01.sigmf-meta", is a recording`},
	} {
		code, _, errOut := runM4sc(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) || strings.Contains(errOut, "panic") {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
}

// A run's air recording passed through liquid-dsp's channel emulator (50 kHz carrier
// offset, three paths within the cyclic prefix, white noise at 20 dB, 1000 samples of
// idle air before and after), given as one user's recording, is aligned to the air and
// decoded: the one frame of each round found, and a caption within 0.1 BLEU-4 of what
// the user's own recording gave (the public frame is coded for the weakest member, at
// 12 dB or more, and 20 dB through paths within the cyclic prefix leaves the decoder
// nothing worse to face; the margin allows a word's difference in a short caption).
// The other users' lines stay the run's.
func TestShareReplayOutsideChannel(t *testing.T) {
	tool := liquidChannel(t)
	isolate(t)
	code, want, errOut := runM4sc(t, "share", "--users", "5", "--n", "2", "--snr", "12:18", "--record", "--out", "rec")
	if code != 0 {
		t.Fatalf("record: exit %d: %s", code, errOut)
	}
	air := "rec/recordings/air"
	if out, err := exec.Command(tool, air+".sigmf-data", "outside.sigmf-data", "20", "0.0157", "5").CombinedOutput(); err != nil {
		t.Fatalf("liquid_channel: %v\n%s", err, out)
	}
	data, err := os.ReadFile("outside.sigmf-data")
	if err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(air + ".sigmf-meta")
	if err != nil {
		t.Fatal(err)
	}
	// The air's metadata with the new data's checksum; its annotations now lie 1000
	// samples early, which the alignment must not trust.
	sum := sha512.Sum512(data)
	meta = regexp.MustCompile(`"core:sha512": "[0-9a-f]+"`).ReplaceAll(meta, []byte(`"core:sha512": "`+hex.EncodeToString(sum[:])+`"`))
	if err := os.WriteFile("outside.sigmf-meta", meta, 0o644); err != nil {
		t.Fatal(err)
	}
	var rx []string
	for u := range 4 {
		rx = append(rx, "file:rec/recordings/"+sharing.RecordingUser(u)+".sigmf-meta")
	}
	rx = append(rx, "file:outside.sigmf-meta")
	code, got, errOut := runM4sc(t, "share", "--replay", "rec", "--out", "outside", "--rx", strings.Join(rx, ","))
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`user 4 from file:outside.sigmf-meta: not its own recording; the air's first sample at its sample 100\d, 2 frames`).MatchString(errOut) {
		t.Errorf("stderr: %s", errOut)
	}
	runLines, _ := shareLines(t, want)
	lines, s := shareLines(t, got)
	if len(lines) != len(runLines) || len(lines) != 10 {
		t.Fatalf("%d lines, the run %d", len(lines), len(runLines))
	}
	for i, l := range lines {
		r := runLines[i]
		if l.User != 4 {
			if l != r {
				t.Errorf("round %d user %d: %+v, the run %+v", l.Round, l.User, l, r)
			}
			continue
		}
		if l.Task != "image.caption" || l.Metric != "BLEU-4" || l.Lost != 0 || math.Abs(l.Value-r.Value) > 0.1 {
			t.Errorf("round %d, user 4 through liquid-dsp's channel: %+v; its own recording: %+v", l.Round, l, r)
		}
		t.Logf("round %d, user 4: %q (BLEU-4 %.3f) through liquid-dsp's channel, %q (%.3f) from its own recording", l.Round, l.Output, l.Value, r.Output, r.Value)
	}
	if s.PerUser[4].Lost != 0 {
		t.Errorf("summary: user 4 lost %d frames", s.PerUser[4].Lost)
	}
}
