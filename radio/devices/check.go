package devices

import (
	"fmt"
	"slices"
	"strings"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/hackrf"
	"github.com/m4sc/m4sc/radio/loopback"
)

// Check validates a device string without opening the device: its syntax, its
// driver, and the keys the driver takes with their values (for loopback devices,
// after the Manager's default loopback parameters). What only opening can tell,
// such as a recording's content or whether a board is attached, is left to
// Open. Errors are those Open would give.
func (m *Manager) Check(spec string) error {
	sp, err := radio.ParseSpec(spec)
	if err != nil {
		return err
	}
	switch sp.Driver {
	case "loopback":
		p, err := loopback.DefaultParams(sp.Arg)
		if err != nil {
			return err
		}
		if err := p.Apply(m.opts.Loopback); err != nil {
			return fmt.Errorf("loopback: configuration: %w", err)
		}
		if err := p.Apply(sp.Params); err != nil {
			return fmt.Errorf("loopback: %s: %w", radio.ClipSpec(sp.String()), err)
		}
		return nil
	case "file":
		if sp.Arg == "" {
			return &radio.SpecError{Spec: sp.String(), Msg: "file needs a path: file:capture.sigmf-meta"}
		}
		return (&fileDevice{path: sp.Arg}).keys(sp)
	case "hackrf":
		// The options are read without the driver, so a build without it
		// still checks them.
		_, err := hackrf.OptionsFromSpec(sp)
		return err
	}
	return unknownDriver(spec, sp)
}

func unknownDriver(spec string, sp radio.Spec) error {
	names := make([]string, 0, 3)
	for _, d := range Drivers() {
		names = append(names, d[0])
	}
	return &radio.SpecError{Spec: spec, Msg: fmt.Sprintf("unknown driver %q (known: %s)", sp.Driver, strings.Join(names, ", "))}
}

// GainStage is a gain stage that some device has, and which devices have it.
type GainStage struct {
	radio.GainInfo
	Devices []string // device strings: "loopback:hackrf", "hackrf"
}

// GainStages lists the gain stages of the devices Open makes, one entry per
// stage and range: the names a configuration's gains may use. The HackRF
// driver's stages are those of the loopback:hackrf simulation, which imitates
// it (package loopback keeps the two tables equal).
func GainStages() []GainStage {
	var out []GainStage
	for _, preset := range []struct {
		name    string
		devices []string
	}{{"", []string{"loopback"}}, {"hackrf", []string{"loopback:hackrf", "hackrf"}}} {
		in, err := loopback.PresetInfo(preset.name)
		if err != nil {
			panic(err) // a preset of this package's own table
		}
		for _, g := range in.Gains {
			i := slices.IndexFunc(out, func(s GainStage) bool { return s.Name == g.Name && s.Range == g.Range })
			if i < 0 {
				out = append(out, GainStage{GainInfo: g})
				i = len(out) - 1
			}
			out[i].Devices = append(out[i].Devices, preset.devices...)
		}
	}
	return out
}
