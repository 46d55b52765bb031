package prom

import (
	"fmt"
	"strings"
	"testing"

	"github.com/promgo/prom/internal/race"
)

// TestLabelCollisions makes label hashes collide for real: 2^17 series
// whose values differ in 3 bytes, against 31-bit hashes, give a few
// colliding pairs in every family, so a lookup must tell series apart by
// comparing their values. Values are plain or need escaping, of lengths
// around the comparison's word sizes, in one label or split over three.
// Every series must be found again, by values and by map.
func TestLabelCollisions(t *testing.T) {
	t.Parallel() // CPU-bound and self-contained: it runs beside the other parallel tests
	const n = 1 << 17
	const digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
	enc := func(i int) string { // 3 bytes, 18 bits
		return string([]byte{digits[i&63], digits[i>>6&63], digits[i>>12&63]})
	}
	type shape struct {
		name  string
		names []string
		value func(i int) []string
	}
	var shapes []shape
	for _, size := range []int{3, 7, 8, 9, 16, 17, 33} {
		for _, fill := range []string{"x", `"`} {
			pad := strings.Repeat(fill, size-3)
			shapes = append(shapes, shape{fmt.Sprintf("len%d_%q", size, fill), []string{"a"},
				func(i int) []string { return []string{pad[:len(pad)/2] + enc(i) + pad[len(pad)/2:]} }})
		}
	}
	shapes = append(shapes,
		shape{"3labels", []string{"a", "b", "c"}, func(i int) []string { return []string{"GET", "x" + enc(i), "200"} }},
		shape{"3labels_split", []string{"a", "b", "c"}, func(i int) []string {
			e := enc(i)
			return []string{e[:1], e[1:2], e[2:]}
		}},
		shape{"3labels_quotes", []string{"a", "b", "c"}, func(i int) []string { return []string{`"`, enc(i), `",b="`} }},
	)
	switch {
	case race.Enabled:
		// One goroutine: the detector has nothing to find, and every shape
		// runs without -race (make mingo in CI). Two keep the collisions.
		shapes = []shape{shapes[4], shapes[len(shapes)-2]} // length 8, and three labels split
	case testing.Short():
		shapes = append(shapes[4:6], shapes[len(shapes)-3:]...) // lengths 8 and 9, and three labels
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			c := Must(NewCounter("coll_total", "h", WithRegistry(nil), WithLabelNames(sh.names...),
				WithConstLabels(Labels{"k": `v"`})))
			vals := make([][]string, n)
			for i := range n {
				vals[i] = sh.value(i)
				c.WithValues(vals[i]...).Add(float64(i + 1))
			}
			for i := range n {
				if got := c.WithValues(vals[i]...).Value(); got != float64(i+1) {
					t.Fatalf("%q: WithValues finds %v, want %d", vals[i], got, i+1)
				}
				l := Labels{}
				for j, name := range sh.names {
					l[name] = vals[i][j]
				}
				if got := c.With(l).Value(); got != float64(i+1) {
					t.Fatalf("%q: With(map) finds %v, want %d", vals[i], got, i+1)
				}
			}
			count := 0
			for range c.All() {
				count++
			}
			if count != n {
				t.Fatalf("%d series, want %d", count, n)
			}
		})
	}
}
