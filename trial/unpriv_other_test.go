//go:build !linux

package trial

import "testing"

// runUnprivileged is a Linux test's way past root's permissions; elsewhere the test
// skips.
func runUnprivileged(t *testing.T) bool { return false }
