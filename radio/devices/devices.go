// Package devices opens radios by name: it turns a device string such as
// "loopback:hackrf,snr=20" or "file:capture.sigmf-meta" into a radio.Device and lists
// what can be opened. A Manager holds the simulated airs of one process, so devices it
// opens on the loopback hear each other; there is no global registry.
package devices

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/m4sc/m4sc/radio"
	"github.com/m4sc/m4sc/radio/loopback"
)

// Options configure a Manager.
type Options struct {
	// Seed seeds every simulated air (each air mixes in its name).
	Seed uint64
	// Loopback holds default loopback parameters from the configuration file, applied
	// before those of each device string.
	Loopback []radio.Param
}

// Manager opens devices and keeps the loopback airs that join them.
type Manager struct {
	opts Options
	mu   sync.Mutex
	airs map[string]*loopback.Air
}

// New returns a Manager.
func New(opts Options) *Manager {
	return &Manager{opts: opts, airs: map[string]*loopback.Air{}}
}

// Drivers lists the driver names Open knows, with what their argument means.
func Drivers() [][2]string {
	return [][2]string{
		{"loopback", "simulated radio; argument: preset (hackrf or empty), then key=value impairments"},
		{"file", "recording; argument: path of a .sigmf-meta, .sigmf-data, .cs8, .cf32 or .cfile file"},
		{"hackrf", "HackRF One; argument: serial number (build with -tags hackrf)"},
	}
}

// Air returns the loopback air of the given name, creating it on first use.
func (m *Manager) Air(name string) *loopback.Air {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.airs[name]
	if a == nil {
		h := m.opts.Seed
		for _, c := range []byte(name) {
			h = h*1099511628211 + uint64(c)
		}
		a = loopback.NewAir(h)
		m.airs[name] = a
	}
	return a
}

// Open opens the device a string names.
func (m *Manager) Open(ctx context.Context, spec string) (radio.Device, error) {
	sp, err := radio.ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	switch sp.Driver {
	case "loopback":
		air := "default"
		if v, ok := lookup(m.opts.Loopback, "air"); ok {
			air = v
		}
		if v, ok := sp.Lookup("air"); ok {
			air = v
		}
		return m.Air(air).Open(sp.String(), sp.Arg, m.opts.Loopback, sp.Params)
	case "file":
		return openFile(ctx, sp)
	case "hackrf":
		return openHackRF(ctx, sp)
	}
	return nil, unknownDriver(spec, sp)
}

func lookup(kv []radio.Param, key string) (string, bool) {
	for _, p := range kv {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Listing is one openable device.
type Listing struct {
	Spec        string
	Description string
}

// List returns the devices that can be opened now: the loopback presets, recordings
// in dir, and attached hardware. Problems finding hardware come back as notes, not
// errors: a missing HackRF is not a failure of the listing.
func (m *Manager) List(ctx context.Context, dir string) (list []Listing, notes []string) {
	list = append(list,
		Listing{"loopback", "ideal simulated radio; add impairments: loopback,snr=20,channel=epa,ppm=10"},
		Listing{"loopback:hackrf", "simulated HackRF One pair on a cable: 8-bit ADC, +-20 ppm, DC, IQ imbalance, 30 dB SNR"},
		Listing{"file:PATH", "a recording: SigMF (.sigmf-meta), hackrf_transfer (.cs8), GNU Radio (.cf32, .cfile; add ,rate=20M)"},
	)
	var files []string
	for _, pat := range []string{"*.sigmf-meta", "*.cs8", "*.cf32", "*.cfile"} {
		f, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, f...)
	}
	sort.Strings(files)
	for _, f := range files {
		desc := "recording"
		data := f
		if strings.HasSuffix(f, ".sigmf-meta") {
			data = strings.TrimSuffix(f, ".sigmf-meta") + ".sigmf-data"
		}
		if st, err := os.Stat(data); err == nil {
			desc = fmt.Sprintf("recording, %d bytes of samples", st.Size())
		}
		list = append(list, Listing{"file:" + f, desc})
	}
	hw, note := listHackRF(ctx)
	list = append(list, hw...)
	if note != "" {
		notes = append(notes, note)
	}
	return list, notes
}
