// Package sharing splits what several users have in common (sent once, public) from
// what is each one's own (private), and schedules broadcast and unicast.
//
// Not built yet: this file holds the place in the layout.
package sharing
