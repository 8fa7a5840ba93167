package sharing

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteCSV writes summaries as CSV under one header: one row per user with its
// metric shared, unicast semantic and unicast 802.11a, the round's channel use
// repeated on every row.
func WriteCSV(w io.Writer, sums ...*Summary) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"scenario", "users", "overlap", "channel", "rounds", "user", "task", "metric", "shared", "shared_lo95", "shared_hi95",
		"unicast", "unicast_lo95", "unicast_hi95", "unicast_80211a", "unicast_80211a_lo95", "unicast_80211a_hi95", "rate_mbps_80211a", "undelivered_80211a",
		"frames_lost", "airtime_us", "airtime_us_unicast", "airtime_us_80211a", "symbols", "symbols_unicast", "symbols_80211a"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	for _, s := range sums {
		for _, u := range s.PerUser {
			cw.Write([]string{string(s.Scenario), strconv.Itoa(s.Users), f(s.Overlap), s.Channel, strconv.Itoa(s.Rounds), strconv.Itoa(u.User), u.Task, u.Metric,
				f(u.Shared), f(u.SharedLo), f(u.SharedHi), f(u.Unicast), f(u.UnicastLo), f(u.UnicastHi), f(u.WiFi), f(u.WiFiLo), f(u.WiFiHi),
				f(u.WiFiRate), strconv.Itoa(u.WiFiUndelivered), strconv.Itoa(u.Lost),
				f(s.AirtimeUS), f(s.AirtimeUSUnicast), f(s.AirtimeUSWiFi), f(s.Symbols), f(s.SymbolsUnicast), f(s.SymbolsWiFi)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// Markdown renders a summary: channel use against unicast semantic and unicast
// 802.11a, then each user's metric under the three.
func Markdown(s *Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d users", s.Scenario, s.Users)
	if s.Scenario == ScenarioOverlap {
		fmt.Fprintf(&b, ", %.0f%% overlap", 100*s.Overlap)
	}
	fmt.Fprintf(&b, ", channel %s, %d rounds\n\n", s.Channel, s.Rounds)
	if len(s.Devices) > 0 {
		fmt.Fprintf(&b, "Devices: tx %s; rx %s.\n\n", s.Devices[0], strings.Join(s.Devices[1:], "; "))
	}
	b.WriteString("| per round | shared | unicast semantic | ratio | unicast 802.11a best rate | ratio |\n| --- | --- | --- | --- | --- | --- |\n")
	fmt.Fprintf(&b, "| airtime (us) | %.1f | %.1f | %.3f | %.1f | %.3f |\n", s.AirtimeUS, s.AirtimeUSUnicast, s.AirtimeRatio, s.AirtimeUSWiFi, s.AirtimeRatioWiFi)
	fmt.Fprintf(&b, "| complex data symbols | %.1f | %.1f | %.3f | %.1f | %.3f |\n", s.Symbols, s.SymbolsUnicast, s.SymbolRatio, s.SymbolsWiFi, s.SymbolRatioWiFi)
	fmt.Fprintf(&b, "| frames | %.2f | %d | | %.2f | |\n\n", s.Frames, s.Users, s.FramesWiFi)
	fmt.Fprintf(&b, "Vectors sent public: %.1f%%.", 100*s.PublicShare)
	if s.PublicCopies > 0 {
		fmt.Fprintf(&b, " Copies per public frame: %.2f.", s.PublicCopies)
	}
	if s.Scenario == ScenarioText {
		fmt.Fprintf(&b, " Tokens with a match in another user's sentence: %.1f%%.", 100*s.TokenCandidates)
	}
	b.WriteString("\n\n| user | task | metric | shared (95% interval) | unicast semantic (95% interval) | unicast 802.11a (95% interval) | 802.11a mean rate (Mbit/s), rounds undelivered | frames lost shared |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, u := range s.PerUser {
		fmt.Fprintf(&b, "| %d | %s | %s | %.3f [%.3f, %.3f] | %.3f [%.3f, %.3f] | %.3f [%.3f, %.3f] | %.1f, %d | %d |\n", u.User, u.Task, u.Metric,
			u.Shared, u.SharedLo, u.SharedHi, u.Unicast, u.UnicastLo, u.UnicastHi, u.WiFi, u.WiFiLo, u.WiFiHi, u.WiFiRate, u.WiFiUndelivered, u.Lost)
	}
	return b.String()
}
