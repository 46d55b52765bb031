package prom

// Security (issue 8, item 6). Covered already in service_test.go and not
// repeated here: TestServiceTLS (TLS 1.1 refused with TLSConfig, with
// CertFile/KeyFile and with a TLSConfig whose MinVersion is 1.0; plain HTTP
// on the TLS port), TestServiceBasicAuth (missing, wrong and non-Basic
// credentials; index and robots.txt open), TestServiceSlowClient
// (ReadHeaderTimeout cuts off a client that never ends its headers) and
// TestServicePaths (unknown paths 404, methods 405).

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	// Registered on http.DefaultServeMux, as in a program that imports
	// them: the Service must not serve them all the same.
	_ "expvar"
	_ "net/http/pprof"
)

// TestSecurityBasicAuthConstantTime checks that the credentials are
// compared with crypto/subtle over fixed-length digests, never with == or
// a comparison that stops at the first difference or at a length
// mismatch, and that wrong passwords and user names of every length,
// prefixes of the right ones among them, are all refused alike.
func TestSecurityBasicAuthConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "service.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var fn *ast.FuncDecl
	for _, d := range file.Decls {
		if f, ok := d.(*ast.FuncDecl); ok && f.Name.Name == "basicAuth" && f.Recv == nil {
			fn = f
		}
	}
	if fn == nil {
		t.Fatal("service.go has no func basicAuth")
	}
	var calls []string
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok {
					calls = append(calls, x.Name+"."+sel.Sel.Name)
				}
			}
		case *ast.BinaryExpr:
			if n.Op != token.EQL && n.Op != token.NEQ {
				break
			}
			// Only comparisons with a constant (match != 1, realm == "")
			// are fine; comparing two values that hold credentials is not.
			_, lit := n.Y.(*ast.BasicLit)
			_, litX := n.X.(*ast.BasicLit)
			if !lit && !litX {
				t.Errorf("%v: basicAuth compares two values with %v", fset.Position(n.Pos()), n.Op)
			}
		}
		return true
	})
	if !slices.Contains(calls, "subtle.ConstantTimeCompare") {
		t.Errorf("basicAuth does not call subtle.ConstantTimeCompare; it calls %v", calls)
	}
	// ConstantTimeCompare returns at once on a length mismatch: its
	// arguments must have a fixed length, such as digests.
	if !slices.Contains(calls, "sha256.Sum256") && !slices.Contains(calls, "hmac.New") {
		t.Errorf("basicAuth compares the credentials without hashing them first, so their length shows in the time taken; it calls %v", calls)
	}
	for _, banned := range []string{"bytes.Equal", "strings.EqualFold", "strings.Compare", "bytes.Compare", "reflect.DeepEqual"} {
		if slices.Contains(calls, banned) {
			t.Errorf("basicAuth calls %s", banned)
		}
	}

	const user, pass = "prometheus", "s3cret pass"
	h := basicAuth(BasicAuth{Username: user, Password: pass}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "metrics")
	}))
	try := func(u, p string) int {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.SetBasicAuth(u, p)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("401 without a challenge for %q:%q", u, p)
		}
		return rec.Code
	}
	var wrong []string
	for _, n := range []int{0, 1, 5, len(pass) - 1, len(pass) + 1, 64, 1000, 60000} {
		wrong = append(wrong, strings.Repeat("x", n))
	}
	wrong = append(wrong,
		pass[:len(pass)-1],        // a prefix
		pass+" ",                  // an extension
		"S3cret pass",             // the first byte differs
		"s3cret pasS",             // the last byte differs
		strings.ToUpper(pass),     // case
		pass+"\x00",               // a NUL after it
		"\x00"+pass,               // before it
		pass[:len(pass)-1]+"\xff", // an invalid byte
	)
	for _, p := range wrong {
		if code := try(user, p); code != http.StatusUnauthorized {
			t.Errorf("password %q (%d bytes): status %d, want 401", truncateString(p), len(p), code)
		}
		if code := try(p, pass); code != http.StatusUnauthorized {
			t.Errorf("user %q (%d bytes) with the right password: status %d, want 401", truncateString(p), len(p), code)
		}
	}
	for _, u := range []string{user[:len(user)-1], user + "s", "Prometheus"} {
		if code := try(u, pass); code != http.StatusUnauthorized {
			t.Errorf("user %q: status %d, want 401", u, code)
		}
	}
	if code := try(user, pass); code != http.StatusOK {
		t.Errorf("right credentials: status %d, want 200", code)
	}
	// The user name and password are compared together: a user:pass that
	// moves the colon gets nowhere.
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Header.Set("Authorization", "Basic cHJvbWV0aGV1czpzM2NyZXQgcGFzcw==") // prometheus:s3cret pass
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Errorf("hand-encoded right credentials: status %d", rec.Code)
	}
	r.Header.Set("Authorization", "Basic cHJvbWV0aGV1czpzM2NyZXQ6IHBhc3M=") // prometheus:s3cret: pass
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("credentials with a moved colon: status %d", rec.Code)
	}
}

func truncateString(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

// TestSecurityTLSMinVersionPerClientConfig: a certificate served through
// GetCertificate or GetConfigForClient must not open a way around the
// TLS 1.2 minimum. Go uses the Config that GetConfigForClient returns for
// the whole handshake, its MinVersion included, so the Service must raise
// that one too (it did not before ca0a73c: a TLS 1.0 client was served).
func TestSecurityTLSMinVersionPerClientConfig(t *testing.T) {
	cert := selfSigned(t)
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
	}{
		{"GetCertificate", &tls.Config{MinVersion: tls.VersionTLS10, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return &cert.server.Certificates[0], nil
		}}},
		{"GetConfigForClient returning a TLS 1.0 config", &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return &tls.Config{MinVersion: tls.VersionTLS10, Certificates: cert.server.Certificates}, nil
		}}},
		{"GetConfigForClient returning nil", &tls.Config{MinVersion: tls.VersionTLS10, Certificates: cert.server.Certificates,
			GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return nil, nil }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := checkGoroutines()
			l, _ := bufLogger()
			s := &Service{Registry: handlerRegistry(t), Addr: "127.0.0.1:0", TLSConfig: tc.cfg, ErrorLog: l}
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			u := mustURL(t, s.MetricsURL)
			resp, body := get(t, testClient(cert.client), http.MethodGet, u, nil)
			if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
				t.Errorf("TLS 1.2+ client: %d, %+v\n%s", resp.StatusCode, resp.TLS, body)
			}
			for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
				old := cert.client.Clone()
				old.MinVersion, old.MaxVersion = v, v
				if resp, err := testClient(old).Get(u); err == nil {
					resp.Body.Close()
					t.Errorf("BUG: a %s-only client was served (status %d, negotiated %s)", tls.VersionName(v), resp.StatusCode, tls.VersionName(resp.TLS.Version))
				}
			}
			s.Stop(context.Background())
			g.verify(t)
		})
	}
}

// TestSecurityNoDebugEndpoints: the Service serves no profiling or debug
// pages, even in a program that imports net/http/pprof and expvar (this
// test binary does), under any MetricsPath and with basic auth.
func TestSecurityNoDebugEndpoints(t *testing.T) {
	// The imports above did register the handlers on the default mux.
	rec := httptest.NewRecorder()
	http.DefaultServeMux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/vars", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("expvar is not on the default mux (status %d): the test proves nothing", rec.Code)
	}
	paths := []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/profile?seconds=1", "/debug/pprof/goroutine?debug=2",
		"/debug/pprof/heap", "/debug/pprof/trace?seconds=1", "/debug/vars", "/debug/", "/debug", "/metrics/debug/pprof/",
		"/metrics/../debug/pprof/", "//debug/pprof/", "/%64ebug/pprof/"}
	for _, s := range []*Service{
		{Addr: "127.0.0.1:0"},
		{Addr: "127.0.0.1:0", MetricsPath: "/debug/metrics"},
		{Addr: "127.0.0.1:0", BasicAuth: &BasicAuth{Username: "u", Password: "p"}},
	} {
		s.Registry = handlerRegistry(t)
		startService(t, s)
		base := mustURL(t, s.BaseURL)
		for _, p := range paths {
			u := base + p
			// Send the path as it is, uncleaned.
			req, err := http.NewRequest(http.MethodGet, base+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Opaque = strings.SplitN(p, "?", 2)[0]
			if i := strings.IndexByte(p, '?'); i >= 0 {
				req.URL.RawQuery = p[i+1:]
			}
			resp, err := testClient(nil).Do(req)
			if err != nil {
				t.Errorf("GET %s: %v", u, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s (MetricsPath %q): status %d, want 404\n%.200s", u, s.MetricsPath, resp.StatusCode, body)
			}
			for _, leak := range []string{"goroutine", "cmdline", "memstats", "pprof"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("GET %s: the body mentions %q:\n%.200s", u, leak, body)
				}
			}
		}
	}
}

// rawExchange writes a request to a new connection to host (in a
// goroutine, for requests too large for the server to read) and reads the
// response to its end. It returns the status code, 0 when the server
// closed the connection without one, and how long the server took to
// close the connection; it fails the test when the server has not closed
// it within 10s: every request here is one the server must not keep
// reading (or asks for Connection: close).
func rawExchange(t *testing.T, host string, head string, body io.Reader) (int, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	written := make(chan struct{})
	go func() {
		defer close(written)
		if _, err := io.WriteString(conn, head); err != nil {
			return
		}
		if body != nil {
			io.Copy(conn, body) // ends when the server closes the connection
		}
	}()
	defer func() { conn.Close(); <-written }()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	code := 0
	if err == nil {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("status line %q", line)
		}
		fmt.Sscan(f[1], &code)
		_, err = io.Copy(io.Discard, br) // until the server closes
	}
	elapsed := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %v (status %d)", elapsed, code)
	}
	return code, elapsed
}

// endless is a request body that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// TestSecurityRequestLimits: oversized request headers, request lines and
// header counts get 431 (or a closed connection) at once, under the
// default MaxHeaderBytes and a smaller one; a request body of a gigabyte,
// or one that never ends, is not read to its end: the server answers and
// closes the connection.
func TestSecurityRequestLimits(t *testing.T) {
	for _, maxHeader := range []int{0, 8 << 10} {
		t.Run(fmt.Sprintf("MaxHeaderBytes %d", maxHeader), func(t *testing.T) {
			g := checkGoroutines()
			s := &Service{Registry: handlerRegistry(t), Addr: "127.0.0.1:0", MaxHeaderBytes: maxHeader, ErrorLog: discardLogger()}
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(mustURL(t, s.MetricsURL))
			limit := maxHeader
			if limit == 0 {
				limit = 64 << 10
			}
			var manyHeaders strings.Builder
			for i := 0; manyHeaders.Len() < 1<<20; i++ {
				fmt.Fprintf(&manyHeaders, "X-H%d: v\r\n", i)
			}
			for _, tc := range []struct {
				name string
				head string
			}{
				{"1 MiB header", "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1<<20) + "\r\n\r\n"},
				{"1 MiB of small headers", "GET /metrics HTTP/1.1\r\nHost: x\r\n" + manyHeaders.String() + "\r\n"},
				{"1 MiB request line", "GET /metrics?" + strings.Repeat("a", 1<<20) + " HTTP/1.1\r\nHost: x\r\n\r\n"},
				{"headers just over the limit", "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", limit+4096) + "\r\n\r\n"},
			} {
				code, elapsed := rawExchange(t, u.Host, tc.head, nil)
				if code != http.StatusRequestHeaderFieldsTooLarge && code != 0 {
					t.Errorf("%s: status %d, want 431 or a closed connection", tc.name, code)
				}
				if elapsed > 5*time.Second {
					t.Errorf("%s: answered after %v", tc.name, elapsed)
				}
			}
			// Headers within the limit are served.
			code, _ := rawExchange(t, u.Host, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Ok: "+strings.Repeat("a", limit/2)+"\r\nConnection: close\r\n\r\n", nil)
			if code != http.StatusOK {
				t.Errorf("headers of %d bytes: status %d, want 200", limit/2, code)
			}

			// Bodies: the metrics handler reads none; net/http then gives
			// up on the rest and closes the connection.
			for _, tc := range []struct {
				name string
				head string
				want int
			}{
				{"GET with a 1 GiB body", "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n", http.StatusOK},
				{"POST with a 1 GiB body", "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n", http.StatusMethodNotAllowed},
				{"POST with an endless chunked body", "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", http.StatusMethodNotAllowed},
			} {
				var body io.Reader = endless{}
				if strings.Contains(tc.head, "chunked") {
					body = io.MultiReader(strings.NewReader("100000\r\n"), endless{})
				}
				code, elapsed := rawExchange(t, u.Host, tc.head, body)
				if code != tc.want {
					t.Errorf("%s: status %d, want %d", tc.name, code, tc.want)
				}
				if elapsed > 5*time.Second {
					t.Errorf("%s: the connection was closed after %v", tc.name, elapsed)
				}
			}
			if err := s.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v", err)
			}
			g.verify(t)
		})
	}
}
