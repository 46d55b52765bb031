package prom

import (
	"testing"
	"unsafe"
)

// TestExemplarCopiesNames checks that an exemplar keeps copies of its
// label names, not the caller's strings: a name made with unsafe from a
// []byte that the caller reuses must not change the exemplar.
func TestExemplarCopiesNames(t *testing.T) {
	buf := []byte("trace_id")
	name := unsafe.String(&buf[0], len(buf))
	ex, err := newExemplar("c_total", Labels{name: "abc", "span": "1"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "xxxxxxxx")
	if got := ex.Labels.Names(); len(got) != 2 || got[0] != "span" || got[1] != "trace_id" {
		t.Fatalf("exemplar names %q after the caller's bytes changed; want [span trace_id]", got)
	}
	if got := ex.Labels.Values(); got[1] != "abc" {
		t.Errorf("exemplar values %q", got)
	}
}
