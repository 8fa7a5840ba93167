package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// An unknown sub-command is an error naming it, for every group of
// sub-commands; a group alone prints its help.
func TestUnknownSubcommand(t *testing.T) {
	isolate(t)
	a := &app{}
	root := newRootCmd(a)
	var groups []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.HasSubCommands() && sub.Name() != "help" {
				groups = append(groups, sub)
			}
			walk(sub)
		}
	}
	walk(root)
	if len(groups) < 3 {
		t.Fatalf("found only %d groups of sub-commands", len(groups))
	}
	for _, g := range groups {
		path := strings.Fields(g.CommandPath())[1:]
		code, _, errOut := runM4sc(t, append(path, "bogus")...)
		want := `unknown command "bogus" for "` + g.CommandPath() + `"`
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("%v bogus: exit %d, stderr %q", path, code, errOut)
		}
		code, out, _ := runM4sc(t, path...)
		if code != 0 || !strings.Contains(out, "Available Commands:") {
			t.Errorf("%v: exit %d, output %q", path, code, out)
		}
	}
	for _, args := range [][]string{{"phy", "loopback"}, {"data", "verify"}} {
		if code, _, errOut := runM4sc(t, args...); code == 0 || !strings.Contains(errOut, `unknown command "`+args[1]+`"`) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}
