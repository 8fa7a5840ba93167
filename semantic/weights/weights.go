// Package weights embeds the trained channel codec of package semantic, so that
// m4sc send, receive and the demo run with no download. files/codec.safetensors is
// written by `m4sc train --stage channel` (files/README.md gives the command, the
// seed and the figures); a build without it has no codec (ErrNoCodec).
package weights

import (
	"bytes"
	"embed"
	"errors"
	"io/fs"

	"github.com/m4sc/m4sc/semantic"
)

//go:embed files
var files embed.FS

// ErrNoCodec is returned when the binary was built without a trained codec.
var ErrNoCodec = errors.New("semantic: no trained channel codec in this build (train one with m4sc train --stage channel)")

// Codec returns the shipped channel codec.
func Codec() (*semantic.Codec, error) {
	b, err := fs.ReadFile(files, "files/codec.safetensors")
	if err != nil {
		return nil, ErrNoCodec
	}
	return semantic.ReadCodec(bytes.NewReader(b), int64(len(b)))
}
