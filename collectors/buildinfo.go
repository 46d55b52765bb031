package collectors

import (
	"context"
	"runtime/debug"

	"github.com/promgo/prom"
)

const (
	buildInfo     = "go_build_info"
	buildInfoHelp = "Build information about the main Go module: its path, version and checksum, and the Go version that built it."
)

// buildInfoCollector is the collector NewBuildInfoCollector returns.
type buildInfoCollector struct {
	labels prom.Labels
}

// NewBuildInfoCollector returns a collector of one gauge, always 1, whose
// labels describe the binary, as client_golang's build-info collector
// does:
//
//	go_build_info{checksum="h1:...",goversion="go1.26.0",path="example.com/app",version="v1.2.3"} 1
//
// path, version and checksum are the main module's, from
// runtime/debug.ReadBuildInfo ("(devel)" is the version of a binary built
// inside its own module, which has no checksum); goversion, which
// client_golang leaves out, is the Go version that built the binary. All
// four are "unknown" when the binary carries no build information. The
// labels are read once, here.
func NewBuildInfoCollector() prom.Collector {
	return newBuildInfoCollector(debug.ReadBuildInfo())
}

func newBuildInfoCollector(bi *debug.BuildInfo, ok bool) *buildInfoCollector {
	if !ok || bi == nil {
		return &buildInfoCollector{labels: prom.Labels{"path": "unknown", "version": "unknown", "checksum": "unknown", "goversion": "unknown"}}
	}
	return &buildInfoCollector{labels: prom.Labels{"path": bi.Main.Path, "version": bi.Main.Version, "checksum": bi.Main.Sum, "goversion": bi.GoVersion}}
}

// Describe returns the name of the build-info gauge.
func (c *buildInfoCollector) Describe() []string { return []string{buildInfo} }

// Collect writes the build-info gauge.
func (c *buildInfoCollector) Collect(_ context.Context, w *prom.MetricWriter) error {
	w.Gauge(buildInfo, buildInfoHelp, 1, c.labels)
	return nil
}
