package prom

import (
	"errors"
	"fmt"
)

// errorf wraps a sentinel error with a message naming the bad input.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("prom: %w: %s", sentinel, fmt.Sprintf(format, args...))
}

// errNilContext is what the methods that take a context return for a nil
// one, as net/http does, rather than panicking.
var errNilContext = errors.New("prom: nil Context")
