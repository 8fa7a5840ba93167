package sharing

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteCSV writes a summary as CSV: one row per user with its metric shared and
// unicast, the round's channel use repeated on every row.
func WriteCSV(w io.Writer, s *Summary) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"scenario", "users", "overlap", "channel", "rounds", "user", "task", "metric", "shared", "shared_lo95", "shared_hi95",
		"unicast", "unicast_lo95", "unicast_hi95", "frames_lost", "airtime_us", "airtime_us_unicast", "symbols", "symbols_unicast"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	for _, u := range s.PerUser {
		cw.Write([]string{string(s.Scenario), strconv.Itoa(s.Users), f(s.Overlap), s.Channel, strconv.Itoa(s.Rounds), strconv.Itoa(u.User), u.Task, u.Metric,
			f(u.Shared), f(u.SharedLo), f(u.SharedHi), f(u.Unicast), f(u.UnicastLo), f(u.UnicastHi), strconv.Itoa(u.Lost),
			f(s.AirtimeUS), f(s.AirtimeUSUnicast), f(s.Symbols), f(s.SymbolsUnicast)})
	}
	cw.Flush()
	return cw.Error()
}

// Markdown renders a summary: channel use against unicast, then each user's metric.
func Markdown(s *Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d users", s.Scenario, s.Users)
	if s.Scenario == ScenarioOverlap {
		fmt.Fprintf(&b, ", %.0f%% overlap", 100*s.Overlap)
	}
	fmt.Fprintf(&b, ", channel %s, %d rounds\n\n", s.Channel, s.Rounds)
	b.WriteString("| per round | shared | unicast | ratio |\n| --- | --- | --- | --- |\n")
	fmt.Fprintf(&b, "| airtime (us) | %.1f | %.1f | %.3f |\n", s.AirtimeUS, s.AirtimeUSUnicast, s.AirtimeRatio)
	fmt.Fprintf(&b, "| complex data symbols | %.1f | %.1f | %.3f |\n", s.Symbols, s.SymbolsUnicast, s.SymbolRatio)
	fmt.Fprintf(&b, "| frames | %.2f | %d | |\n\n", s.Frames, s.Users)
	fmt.Fprintf(&b, "Vectors sent public: %.1f%%.", 100*s.PublicShare)
	if s.Scenario == ScenarioText {
		fmt.Fprintf(&b, " Tokens with a match in another user's sentence: %.1f%%.", 100*s.TokenCandidates)
	}
	b.WriteString("\n\n| user | task | metric | shared (95% interval) | unicast (95% interval) | frames lost |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, u := range s.PerUser {
		fmt.Fprintf(&b, "| %d | %s | %s | %.3f [%.3f, %.3f] | %.3f [%.3f, %.3f] | %d |\n", u.User, u.Task, u.Metric,
			u.Shared, u.SharedLo, u.SharedHi, u.Unicast, u.UnicastLo, u.UnicastHi, u.Lost)
	}
	return b.String()
}
