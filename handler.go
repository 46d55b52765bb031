package prom

import (
	"compress/gzip"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// HandlerOption configures [Handler].
type HandlerOption func(*handlerOptions)

type handlerOptions struct {
	errorLog *log.Logger
}

// WithErrorLog logs collection errors to l; by default they go to the
// standard logger.
func WithErrorLog(l *log.Logger) HandlerOption {
	return func(o *handlerOptions) { o.errorLog = l }
}

// Handler returns an http.Handler that serves reg (nil means [Default]) to
// scrapers, for any mux. It answers GET and HEAD, chooses the format from
// the Accept header, and compresses with gzip when the client accepts it.
// The body is rendered in memory and written at once, so a slow client
// holds no lock. Errors from custom collectors are logged and the metrics
// that could be collected are served.
func Handler(reg *Registry, opts ...HandlerOption) http.Handler {
	if reg == nil {
		reg = Default
	}
	h := &handler{reg: reg}
	for _, o := range opts {
		if o != nil {
			o(&h.opts)
		}
	}
	return h
}

type handler struct {
	reg  *Registry
	opts handlerOptions
}

var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f := NegotiateFormat(r.Header.Get("Accept"))
	buf := getBuffer()
	defer putBuffer(buf)
	var err error
	*buf, err = h.reg.Append(r.Context(), (*buf)[:0], f)
	if err != nil {
		h.logf("prom: metrics collected with errors: %v", err)
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.ContentType())
	hdr.Add("Vary", "Accept-Encoding")
	body := *buf
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		zbuf := getBuffer()
		defer putBuffer(zbuf)
		zw := gzipPool.Get().(*gzip.Writer)
		bw := appendWriter{b: (*zbuf)[:0]}
		zw.Reset(&bw)
		zw.Write(body)
		zw.Close()
		gzipPool.Put(zw)
		*zbuf = bw.b
		body = bw.b
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

func (h *handler) logf(format string, args ...any) {
	if h.opts.errorLog != nil {
		h.opts.errorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			_, q, ok := strings.Cut(strings.ReplaceAll(params, " ", ""), "q=")
			if ok {
				v, err := strconv.ParseFloat(q, 64)
				return err == nil && v > 0
			}
			return true
		}
	}
	return false
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
