package push

import (
	"errors"
	"testing"

	"github.com/promgo/prom"
)

// TestCheckNoFalseConflict pushes label names and values that resemble the
// reserved ones without being them.
func TestCheckNoFalseConflict(t *testing.T) {
	reg := prom.NewRegistry()
	prom.Must(prom.NewGauge("job", "A metric named job.", prom.WithRegistry(reg))).Set(1)
	g := prom.Must(prom.NewGauge("g", `help with job="x"`, prom.WithRegistry(reg)))
	g.With(prom.Labels{"jobs": "1", "a": `x",job="y`, "b": "instance", "c": "\\\",job=\""}).Set(1)
	g.With(prom.Labels{"my_instance": "}", "_job": "{job=\"z\"}"}).Set(2)
	for _, f := range []prom.Format{prom.FormatProtobuf, prom.FormatText} {
		if err := checkLabels(render(t, reg, f), f, []string{"job", "instance"}); err != nil {
			t.Errorf("%v: %v", f, err)
		}
	}
}

// FuzzCheckLabels feeds the label check arbitrary bytes in both formats:
// it must not panic, and it must answer nil, errMalformed or a conflict.
func FuzzCheckLabels(f *testing.F) {
	reg := prom.NewRegistry()
	prom.Must(prom.NewGauge("g", "h", prom.WithRegistry(reg), prom.WithConstLabels(prom.Labels{"job": "x"}))).Set(1)
	prom.Must(prom.NewHistogram("h", "h", prom.WithRegistry(reg))).With(prom.Labels{"a": "\"}"}).Observe(1)
	prom.Must(prom.NewSummary("s", "h", prom.WithRegistry(reg))).With(prom.Labels{"instance": "x"}).Observe(1)
	for _, format := range []prom.Format{prom.FormatProtobuf, prom.FormatText} {
		b, _ := reg.Append(f.Context(), nil, format)
		f.Add(b, format == prom.FormatText)
	}
	f.Add([]byte("x{a=\"\\\"\n"), true)
	f.Add([]byte{0x05, 0x22, 0x03, 0x0a, 0x01, 0x61}, false)
	f.Fuzz(func(t *testing.T, b []byte, text bool) {
		format := prom.FormatProtobuf
		if text {
			format = prom.FormatText
		}
		err := checkLabels(b, format, []string{"job", "instance"})
		if err != nil && err != errMalformed && !errors.Is(err, ErrLabelConflict) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// TestCheckAllocs holds the label check to its budget: it reads the bytes
// about to be sent and allocates nothing when it finds no conflict.
func TestCheckAllocs(t *testing.T) {
	reg := testRegistry(t)
	for _, f := range []prom.Format{prom.FormatProtobuf, prom.FormatText} {
		b := render(t, reg, f)
		n := testing.AllocsPerRun(100, func() {
			if err := checkLabels(b, f, []string{"job", "instance"}); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%v: %v allocations per check, want 0", f, n)
		}
	}
}
