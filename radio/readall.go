package radio

import (
	"errors"
	"fmt"
	"io"
)

// ReadAll reads s to its end (io.EOF, as a recording ends) and returns every sample.
// Once more than limit samples have come it stops with an error saying so (limit <= 0:
// no bound). Another error from Read is returned as it is.
func ReadAll(s RXStream, limit int) ([]complex64, error) {
	var y []complex64
	buf := make([]complex64, 1<<16)
	for {
		n, _, err := s.Read(buf)
		y = append(y, buf[:n]...)
		if limit > 0 && len(y) > limit {
			return nil, fmt.Errorf("more than %d samples", limit)
		}
		if errors.Is(err, io.EOF) {
			return y, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
