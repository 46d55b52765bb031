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
	// samples, units, exemplars and # EOF. OpenMetrics gives a histogram's
	// or a summary's sum and count the rules of a counter (never negative,
	// never NaN) and forbids negative quantile values, so a sample that
	// would break them is left out there, as strict parsers require: a
	// negative or NaN sum; a histogram's count beside it (the two come
	// together), and both for a histogram with a negative bucket bound; a
	// negative quantile value. The other formats carry them.
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
	if ctx == nil {
		return dst, errNilContext
	}
	enc, buf, err := newEncoder(f, dst, o)
	if err != nil {
		return dst, err
	}
	err = r.encode(ctx, enc, o.names)
	return *buf, err
}

// newEncoder returns the encoder of format f, appending to dst, and a
// pointer to its buffer.
func newEncoder(f Format, dst []byte, o renderOptions) (expo.Encoder, *[]byte, error) {
	switch f {
	case FormatText:
		enc := &expo.Text{Buf: dst}
		return enc, &enc.Buf, nil
	case FormatOpenMetrics:
		enc := &expo.OpenMetrics{Buf: dst, Created: o.created}
		return enc, &enc.Buf, nil
	case FormatProtobuf:
		enc := &expo.Protobuf{Buf: dst}
		return enc, &enc.Buf, nil
	}
	return nil, nil, fmt.Errorf("prom: unknown exposition format %v", f)
}

// renderChunked renders like render, into buf, but hands the buffer to
// flush whenever it holds chunk bytes or more (more when one sample, or
// for protobuf one family, is larger), and at the end, so that the whole
// exposition need not be held in one buffer. flush returns the empty
// buffer to render on into: its argument truncated, to reuse it, or
// another one. renderChunked returns the buffer it ended with, empty.
func (r *Registry) renderChunked(ctx context.Context, buf []byte, f Format, o renderOptions, chunk int, flush func([]byte) []byte) ([]byte, error) {
	inner, b, err := newEncoder(f, buf, o)
	if err != nil {
		return buf, err
	}
	enc := &chunkedEncoder{Encoder: inner, buf: b, chunk: chunk, flush: flush, familiesOnly: f == FormatProtobuf}
	err = r.encode(ctx, enc, o.names)
	enc.flushBuf()
	return *b, err
}

// chunkedEncoder wraps a format's encoder and hands its buffer to flush
// whenever it holds chunk bytes or more at a point where those bytes are
// final: after any sample in the text formats, between families in
// protobuf, where a family is one length-delimited message whose length is
// written when it ends.
type chunkedEncoder struct {
	expo.Encoder
	buf          *[]byte // the wrapped encoder's buffer
	chunk        int
	flush        func([]byte) []byte
	familiesOnly bool // protobuf: flush between families only
}

func (e *chunkedEncoder) Family(name, help string, typ expo.Type, unit string) {
	if len(*e.buf) >= e.chunk {
		if e.familiesOnly {
			e.Encoder.End() // protobuf's End ends the open family and writes nothing else
		}
		e.flushBuf()
	}
	e.Encoder.Family(name, help, typ, unit)
}

func (e *chunkedEncoder) Value(l *expo.Labels, v float64) {
	e.Encoder.Value(l, v)
	e.sampled()
}

func (e *chunkedEncoder) Counter(l *expo.Labels, v float64, created int64, ex *expo.Exemplar) {
	e.Encoder.Counter(l, v, created, ex)
	e.sampled()
}

func (e *chunkedEncoder) Histogram(l *expo.Labels, h *expo.HistogramData) {
	e.Encoder.Histogram(l, h)
	e.sampled()
}

func (e *chunkedEncoder) Summary(l *expo.Labels, s *expo.SummaryData) {
	e.Encoder.Summary(l, s)
	e.sampled()
}

// sampled flushes after a sample when the buffer is full and the format
// allows it.
func (e *chunkedEncoder) sampled() {
	if !e.familiesOnly && len(*e.buf) >= e.chunk {
		e.flushBuf()
	}
}

func (e *chunkedEncoder) flushBuf() {
	if len(*e.buf) > 0 {
		*e.buf = e.flush(*e.buf)
	}
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

// The render buffers' pool. Buffers start at 80 KiB, which holds a scrape's
// chunk (see streamChunk) and the sample that fills it; a buffer that grew
// past maxPooledBuffer (for one protobuf family larger than that, or in
// Render or Append) is dropped rather than kept, so that the pool never
// holds more than a few small buffers per scrape in flight.
const (
	pooledBuffer    = 80 << 10
	maxPooledBuffer = 1 << 20
)

var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, pooledBuffer); return &b }}

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooledBuffer {
		*b = (*b)[:0]
		bufferPool.Put(b)
	}
}

// chunks holds an exposition rendered whole as the list of pooled buffers
// it was rendered into, so that a large one needs no large allocation, nor
// a large buffer kept in the pool.
type chunks struct {
	bufs []*[]byte
	n    int // the bytes in all
}

// take is renderChunked's flush: it keeps p and returns a pooled buffer to
// render on into.
func (c *chunks) take(p []byte) []byte {
	c.bufs = append(c.bufs, &p)
	c.n += len(p)
	return (*getBuffer())[:0]
}

// release returns the buffers to the pool.
func (c *chunks) release() {
	for _, b := range c.bufs {
		putBuffer(b)
	}
	*c = chunks{}
}
