package prom

import (
	"context"
	"strings"
	"testing"
)

// TestNilContext: the methods that take a context return an error for a
// nil one, as net/http does, instead of panicking.
func TestNilContext(t *testing.T) {
	var ctx context.Context // nil
	reg := NewRegistry()
	Must(NewCounter("a_total", "h", WithRegistry(reg))).Inc()
	s := &Service{Registry: reg, Addr: "127.0.0.1:0"}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Registry.Append", func() error { _, err := reg.Append(ctx, nil, FormatText); return err }},
		{"Service.Start", func() error { return s.Start(ctx) }},
		{"Service.Stop", func() error { return s.Stop(ctx) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil || !strings.Contains(err.Error(), "nil Context") {
				t.Errorf("err = %v, want one about the nil Context", err)
			}
		})
	}
	if _, err := s.MetricsURL(); err == nil {
		t.Error("the service started with a nil Context")
	}
}
