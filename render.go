package prom

import (
	"context"
	"fmt"
	"sync"

	"github.com/promgo/prom/internal/expo"
)

// Format is an exposition format.
type Format int

// The exposition formats.
const (
	// FormatText is the Prometheus text format, version 0.0.4.
	FormatText Format = iota
	// FormatOpenMetrics is OpenMetrics 1.0 text: counters as _total
	// samples, units, exemplars and # EOF.
	FormatOpenMetrics
	// FormatProtobuf is varint-delimited io.prometheus.client.MetricFamily
	// messages, the binary format Prometheus asks for first when native
	// histograms are enabled.
	FormatProtobuf
)

// ContentType returns the format's exact Content-Type.
func (f Format) ContentType() string {
	switch f {
	case FormatText:
		return expo.TextContentType
	case FormatOpenMetrics:
		return expo.OpenMetricsContentType
	case FormatProtobuf:
		return expo.ProtobufContentType
	}
	return ""
}

// String names the format.
func (f Format) String() string {
	switch f {
	case FormatText:
		return "text 0.0.4"
	case FormatOpenMetrics:
		return "OpenMetrics 1.0"
	case FormatProtobuf:
		return "protobuf"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Append renders every metric of the registry in format f, appending to
// dst. Metrics that could be collected are written even when an error (a
// failing custom collector, a cancelled ctx) is returned.
func (r *Registry) Append(ctx context.Context, dst []byte, f Format) ([]byte, error) {
	return r.render(ctx, dst, f, renderOptions{})
}

// renderOptions are the choices of one scrape beyond the format.
type renderOptions struct {
	// names, when not nil, keeps only the families with these names (the
	// name[] query parameter).
	names map[string]bool
	// created adds _created samples to OpenMetrics output.
	created bool
}

func (r *Registry) render(ctx context.Context, dst []byte, f Format, o renderOptions) ([]byte, error) {
	switch f {
	case FormatText:
		enc := expo.Text{Buf: dst}
		err := r.encode(ctx, &enc, o.names)
		return enc.Buf, err
	case FormatOpenMetrics:
		enc := expo.OpenMetrics{Buf: dst, Created: o.created}
		err := r.encode(ctx, &enc, o.names)
		return enc.Buf, err
	case FormatProtobuf:
		enc := expo.Protobuf{Buf: dst}
		err := r.encode(ctx, &enc, o.names)
		return enc.Buf, err
	}
	return dst, fmt.Errorf("prom: unknown exposition format %v", f)
}

// Render renders reg (nil means [Default]) in the format that the Accept
// header asks for, as aioprometheus's render does. It returns the body and
// its Content-Type.
func Render(reg *Registry, accept string) (body []byte, contentType string, err error) {
	if reg == nil {
		reg = Default
	}
	f := NegotiateFormat(accept)
	buf := getBuffer()
	defer putBuffer(buf)
	*buf, err = reg.Append(context.Background(), (*buf)[:0], f)
	return append([]byte(nil), *buf...), f.ContentType(), err
}

// maxPooledBuffer is the largest render buffer kept for reuse.
const maxPooledBuffer = 16 << 20

var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooledBuffer {
		*b = (*b)[:0]
		bufferPool.Put(b)
	}
}
