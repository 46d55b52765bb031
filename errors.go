package prom

import "fmt"

// errorf wraps a sentinel error with a message naming the bad input.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("prom: %w: %s", sentinel, fmt.Sprintf(format, args...))
}
