package httpmetrics

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseWriter is the one wrapper [Middleware.Wrap] puts around the
// handler's ResponseWriter. It notes the final status code, the body bytes
// written and whether the connection was hijacked, and passes everything
// else through. Flush, Hijack, ReadFrom and Push reach the underlying writer
// through http.ResponseController, and Unwrap lets the controller reach
// SetReadDeadline, SetWriteDeadline and EnableFullDuplex, so one type
// serves every underlying writer (no table of interface combinations).
type responseWriter struct {
	rw       http.ResponseWriter
	code     int   // final status code; 0 until the header is sent
	size     int64 // body bytes written
	hijacked bool
	route    string // set by SetRoute
	routeSet bool
}

// Header returns the underlying writer's header map.
func (w *responseWriter) Header() http.Header { return w.rw.Header() }

// WriteHeader sends the header. An informational code (1xx other than
// 101 Switching Protocols) is not the final status: net/http sends it at
// once and a final one follows.
func (w *responseWriter) WriteHeader(code int) {
	w.rw.WriteHeader(code) // first: net/http panics on an invalid code
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code = code
	}
}

// Write writes body bytes, sending the header with 200 first if the
// handler has not sent one, as net/http does.
func (w *responseWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.rw.Write(b)
	w.size += int64(n)
	return n, err
}

// WriteString is Write for a string; it spares a copy when the underlying
// writer implements io.StringWriter, as net/http's does.
func (w *responseWriter) WriteString(s string) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := io.WriteString(w.rw, s)
	w.size += int64(n)
	return n, err
}

// ReadFrom copies src to the body, through the underlying writer's
// ReadFrom when it has one (net/http's uses sendfile for files).
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	var n int64
	var err error
	if rf, ok := w.rw.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{w.rw}, src)
	}
	// Copying nothing sends no header, so the handler may still choose
	// the status.
	if n > 0 && w.code == 0 {
		w.code = http.StatusOK
	}
	w.size += n
	return n, err
}

// writerOnly hides every method but Write, so that io.Copy does not call
// ReadFrom back.
type writerOnly struct{ io.Writer }

// Flush sends buffered data to the client; see FlushError.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError sends buffered data, and the header with 200 if none was sent,
// to the client. It returns an error wrapping [http.ErrNotSupported] when
// the underlying writer cannot flush.
func (w *responseWriter) FlushError() error {
	err := http.NewResponseController(w.rw).Flush()
	if err == nil && w.code == 0 {
		w.code = http.StatusOK
	}
	return err
}

// Hijack lets the handler take over the connection. A hijacked request is
// recorded as a request and in no response metric: what is said on the
// connection afterwards is not HTTP the middleware can see. It returns an
// error wrapping [http.ErrNotSupported] when the underlying writer cannot
// hijack (HTTP/2 and later).
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, brw, err
}

// Push starts an HTTP/2 server push when the underlying writer supports it,
// and returns [http.ErrNotSupported] otherwise.
func (w *responseWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.rw.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap returns the underlying writer, for [http.ResponseController].
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.rw }

// Interfaces the wrapper keeps, checked at compile time.
var (
	_ http.Flusher                    = (*responseWriter)(nil)
	_ http.Hijacker                   = (*responseWriter)(nil)
	_ http.Pusher                     = (*responseWriter)(nil)
	_ io.ReaderFrom                   = (*responseWriter)(nil)
	_ io.StringWriter                 = (*responseWriter)(nil)
	_ interface{ FlushError() error } = (*responseWriter)(nil)
)
