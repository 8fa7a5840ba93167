package trial

import "testing"

// TestCompare: a replay that decodes something else lists the change and counts it.
func TestCompare(t *testing.T) {
	v1, v2 := 1.0, 0.5
	snr := 10.0
	old := []Result{
		{Run: 0, Item: 0, Task: "text.transmit", Scheme: "semantic", SNR: &snr, Received: "we the people", Value: &v1, Frames: 1},
		{Run: 0, Item: 1, Task: "text.transmit", Scheme: "semantic", SNR: &snr, Received: "in order", Value: &v1, Frames: 1},
	}
	same := compare(old, old)
	if same.Changed != 0 || len(same.Changes) != 0 {
		t.Errorf("identical results: %+v", same)
	}
	changed := append([]Result(nil), old...)
	changed[1].Received, changed[1].Value, changed[1].FramesLost = "in", &v2, 1
	c := compare(old, changed)
	if c.Changed != 1 || len(c.Changes) != 1 || c.Changes[0].Field != "received" || c.Changes[0].New != "in" {
		t.Errorf("one change: %+v", c)
	}
	if len(c.After) != 1 || c.After[0].Value != 0.75 || c.After[0].Lost != 1 || c.Before[0].Value != 1 {
		t.Errorf("summaries: before %+v after %+v", c.Before, c.After)
	}
	if c := compare(old, old[:1]); c.Changed != 1 {
		t.Errorf("a missing line: %+v", c)
	}
}
