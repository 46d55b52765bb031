package collectors

import (
	"fmt"

	"github.com/promgo/prom"
)

// Register registers the Go runtime, process and build-info collectors in
// reg, or in prom.Default when reg is nil:
//
//	if err := collectors.Register(nil); err != nil {
//		log.Fatal(err)
//	}
//
// It registers all three or none: when one fails (a name is taken, say by
// an earlier Register), the ones it registered are removed again and the
// error is returned.
func Register(reg *prom.Registry) error {
	if reg == nil {
		reg = prom.Default
	}
	var done []prom.Collector
	for _, c := range []prom.Collector{NewGoCollector(), NewProcessCollector(), NewBuildInfoCollector()} {
		if err := reg.Register(c); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			return fmt.Errorf("collectors: %w", err)
		}
		done = append(done, c)
	}
	return nil
}
