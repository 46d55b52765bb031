package prom

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"html"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// goroutineCheck fails the test when goroutines started after it was taken
// are still running at the end.
type goroutineCheck struct{ before int }

func checkGoroutines() goroutineCheck { return goroutineCheck{runtime.NumGoroutine()} }

// verify waits for the goroutine count to fall back to where it was, and
// fails with every goroutine's stack if it does not.
func (g goroutineCheck) verify(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= g.before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutine leak: %d goroutines, %d before\n%s", n, g.before, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testClient returns a client that keeps no connection open after a
// request, so that no goroutine outlives a test, and uses no proxy.
func testClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: tlsConfig},
	}
}

// get fetches u with the client and returns the response and its body.
func get(t *testing.T, c *http.Client, method, u string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, u, err)
	}
	return resp, string(body)
}

// startService starts s and registers its Stop as a cleanup.
func startService(t *testing.T, s *Service) {
	t.Helper()
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
}

func mustURL(t *testing.T, f func() (string, error)) string {
	t.Helper()
	u, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestServiceLifecycle(t *testing.T) {
	g := checkGoroutines()
	s := &Service{Registry: handlerRegistry(t), Addr: "127.0.0.1:0"}
	urls := map[string]func() (string, error){"BaseURL": s.BaseURL, "RootURL": s.RootURL, "MetricsURL": s.MetricsURL}
	notRunning := func(when string) {
		t.Helper()
		for name, f := range urls {
			if u, err := f(); !errors.Is(err, ErrServiceNotRunning) || u != "" {
				t.Errorf("%s %s = %q, %v; want ErrServiceNotRunning", name, when, u, err)
			}
		}
	}
	notRunning("before Start")
	if err := s.Stop(context.Background()); !errors.Is(err, ErrServiceNotRunning) {
		t.Errorf("Stop before Start = %v, want ErrServiceNotRunning", err)
	}
	if !strings.Contains(ErrServiceNotRunning.Error(), "not running") {
		t.Errorf("ErrServiceNotRunning says %q", ErrServiceNotRunning)
	}

	client := testClient(nil)
	for run := range 2 { // a stopped service starts again
		if err := s.Start(context.Background()); err != nil {
			t.Fatalf("run %d: Start: %v", run, err)
		}
		if err := s.Start(context.Background()); !errors.Is(err, ErrServiceRunning) {
			t.Errorf("second Start = %v, want ErrServiceRunning", err)
		}
		base := mustURL(t, s.BaseURL)
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "0" || u.Path != "" {
			t.Errorf("BaseURL = %q, want http://127.0.0.1:<port>", base)
		}
		if got := mustURL(t, s.RootURL); got != base+"/" {
			t.Errorf("RootURL = %q, want %q", got, base+"/")
		}
		metricsURL := mustURL(t, s.MetricsURL)
		if metricsURL != base+"/metrics" {
			t.Errorf("MetricsURL = %q, want %q", metricsURL, base+"/metrics")
		}
		resp, body := get(t, client, http.MethodGet, metricsURL, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "hits_total 4") {
			t.Errorf("GET %s: %d\n%s", metricsURL, resp.StatusCode, body)
		}

		if err := s.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
		notRunning("after Stop")
		start := time.Now()
		if err := s.Stop(context.Background()); !errors.Is(err, ErrServiceNotRunning) {
			t.Errorf("second Stop = %v, want ErrServiceNotRunning", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("second Stop took %v", d)
		}
		if _, err := client.Get(metricsURL); err == nil {
			t.Errorf("GET after Stop succeeded")
		}
	}
	g.verify(t)
}

func TestServiceStartErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cert := selfSigned(t)
	for _, tc := range []struct {
		name string
		s    *Service
		want string // in the error
	}{
		{"address in use", &Service{Addr: taken.Addr().String()}, "in use"},
		{"bad address", &Service{Addr: "127.0.0.1:notaport"}, "notaport"},
		{"relative metrics path", &Service{Addr: "127.0.0.1:0", MetricsPath: "metrics"}, "does not begin with /"},
		{"metrics path with a query", &Service{Addr: "127.0.0.1:0", MetricsPath: "/metrics?x=1"}, `"/metrics?x=1" holds '?'`},
		{"metrics path with a fragment", &Service{Addr: "127.0.0.1:0", MetricsPath: "/a#b"}, `"/a#b" holds '#'`},
		{"CertFile alone", &Service{Addr: "127.0.0.1:0", CertFile: "cert.pem"}, "CertFile and KeyFile"},
		{"missing cert file", &Service{Addr: "127.0.0.1:0", CertFile: "/nonexistent/cert.pem", KeyFile: "/nonexistent/key.pem"}, "no such file"},
		{"TLSConfig without certificate", &Service{Addr: "127.0.0.1:0", TLSConfig: &tls.Config{}}, "no certificate"},
		{"TLSConfig up to TLS 1.1", &Service{Addr: "127.0.0.1:0", TLSConfig: &tls.Config{Certificates: cert.server.Certificates, MaxVersion: tls.VersionTLS11}}, "MaxVersion is TLS 1.1, below the oldest version the service accepts, TLS 1.2"},
		{"TLSConfig MaxVersion below MinVersion", &Service{Addr: "127.0.0.1:0", TLSConfig: &tls.Config{Certificates: cert.server.Certificates, MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS12}}, "MaxVersion is TLS 1.2, below the oldest version the service accepts, TLS 1.3"},
		{"BasicAuth without user", &Service{Addr: "127.0.0.1:0", TLSConfig: cert.server, BasicAuth: &BasicAuth{Password: "x"}}, "Username"},
		{"BasicAuth user with colon", &Service{Addr: "127.0.0.1:0", BasicAuth: &BasicAuth{Username: "a:b"}}, "colon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Start(context.Background())
			if err == nil {
				tc.s.Stop(context.Background())
				t.Fatalf("Start succeeded, want an error with %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start = %v, want an error with %q", err, tc.want)
			}
			if _, err := tc.s.BaseURL(); !errors.Is(err, ErrServiceNotRunning) {
				t.Errorf("BaseURL after a failed Start = %v, want ErrServiceNotRunning", err)
			}
			if err := tc.s.Stop(context.Background()); !errors.Is(err, ErrServiceNotRunning) {
				t.Errorf("Stop after a failed Start = %v, want ErrServiceNotRunning", err)
			}
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s := &Service{Addr: "127.0.0.1:0"}
		if err := s.Start(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Start with a cancelled context = %v, want context.Canceled", err)
		}
	})
}

func TestServicePaths(t *testing.T) {
	s := &Service{Registry: handlerRegistry(t), Addr: "127.0.0.1:0", MetricsPath: "/custom/metrics"}
	startService(t, s)
	base := mustURL(t, s.BaseURL)
	if got := mustURL(t, s.MetricsURL); got != base+"/custom/metrics" {
		t.Errorf("MetricsURL = %q", got)
	}
	client := testClient(nil)
	for _, tc := range []struct {
		method, path string
		code         int
		contentType  string // prefix
		body         string // substring; exact for robots.txt
	}{
		{"GET", "/", 200, "text/html", `<a href="/custom/metrics">`},
		{"HEAD", "/", 200, "text/html", ""},
		{"POST", "/", 405, "", ""},
		{"GET", "/robots.txt", 200, "text/plain", "User-agent: *\nDisallow: /\n"},
		{"HEAD", "/robots.txt", 200, "text/plain", ""},
		{"GET", "/custom/metrics", 200, "text/plain; version=0.0.4", "hits_total 4"},
		{"GET", "/custom/metrics?name[]=a", 200, "text/plain; version=0.0.4", "a 1"},
		{"HEAD", "/custom/metrics", 200, "text/plain; version=0.0.4", ""},
		{"POST", "/custom/metrics", 405, "", ""},
		{"GET", "/metrics", 404, "", ""},
		{"GET", "/custom/metrics/", 404, "", ""},
		{"GET", "/index.html", 404, "", ""},
		{"GET", "/favicon.ico", 404, "", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, body := get(t, client, tc.method, base+tc.path, nil)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tc.code, body)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.contentType) {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.contentType)
			}
			switch {
			case tc.method == "HEAD":
				if body != "" || resp.ContentLength <= 0 {
					t.Errorf("HEAD: body %q, Content-Length %d", body, resp.ContentLength)
				}
			case tc.path == "/robots.txt":
				if body != tc.body {
					t.Errorf("body %q, want %q", body, tc.body)
				}
			case !strings.Contains(body, tc.body):
				t.Errorf("body lacks %q:\n%s", tc.body, body)
			}
			if tc.code == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
		})
	}
}

// TestServiceOddMetricsPath: a metrics path holding characters that a URL
// escapes is served at MetricsURL and at the index's link.
func TestServiceOddMetricsPath(t *testing.T) {
	client := testClient(nil)
	for _, path := range []string{"/a b", "/a%20b", "/100%", "/métriques", "/a/b;c", `/x\`, "//host/m"} {
		t.Run(path, func(t *testing.T) {
			s := &Service{Registry: handlerRegistry(t), Addr: "127.0.0.1:0", MetricsPath: path}
			startService(t, s)
			metrics := mustURL(t, s.MetricsURL)
			u, err := url.Parse(metrics)
			if err != nil {
				t.Fatalf("MetricsURL %q does not parse: %v", metrics, err)
			}
			if u.Path != path {
				t.Errorf("MetricsURL %q has path %q, want %q", metrics, u.Path, path)
			}
			if resp, body := get(t, client, "GET", metrics, nil); resp.StatusCode != 200 || !strings.Contains(body, "hits_total 4") {
				t.Errorf("GET MetricsURL %q: status %d\n%s", metrics, resp.StatusCode, body)
			}
			_, index := get(t, client, "GET", mustURL(t, s.RootURL), nil)
			_, rest, ok := strings.Cut(index, `<a href="`)
			href, _, _ := strings.Cut(rest, `"`)
			if !ok {
				t.Fatalf("index without a link:\n%s", index)
			}
			link, err := u.Parse(html.UnescapeString(href))
			if err != nil {
				t.Fatalf("index link %q: %v", href, err)
			}
			if resp, body := get(t, client, "GET", link.String(), nil); resp.StatusCode != 200 {
				t.Errorf("GET index link %q: status %d\n%s", link, resp.StatusCode, body)
			}
		})
	}
}

// TestServiceHosts checks the host that BaseURL reports for the addresses
// a service can listen on.
func TestServiceHosts(t *testing.T) {
	ipv6 := true
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		ipv6 = false
	} else {
		ln.Close()
	}
	for _, tc := range []struct {
		addr, host string
		needIPv6   bool
	}{
		{"127.0.0.1:0", "127.0.0.1", false},
		{"[::1]:0", "[::1]", true},
		{"localhost:0", "127.0.0.1", false}, // the address bound, not the name
		{":0", "localhost", false},
		{"", "localhost", false},
		{"0.0.0.0:0", "localhost", false},
	} {
		name := tc.addr
		if name == "" {
			name = "empty"
		}
		t.Run(name, func(t *testing.T) {
			if tc.needIPv6 && !ipv6 {
				t.Skip("no IPv6 loopback")
			}
			if tc.addr == "localhost:0" {
				if addrs, err := net.LookupHost("localhost"); err != nil || len(addrs) == 0 || addrs[0] != "127.0.0.1" {
					t.Skipf("localhost resolves to %v first (%v)", addrs, err)
				}
			}
			s := &Service{Registry: handlerRegistry(t), Addr: tc.addr}
			startService(t, s)
			base := mustURL(t, s.BaseURL)
			u, err := url.Parse(base)
			if err != nil {
				t.Fatalf("BaseURL %q does not parse: %v", base, err)
			}
			if u.Host != tc.host+":"+u.Port() || u.Port() == "0" {
				t.Errorf("BaseURL = %q, want http://%s:<port>", base, tc.host)
			}
			resp, body := get(t, testClient(nil), http.MethodGet, mustURL(t, s.MetricsURL), nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "a 1") {
				t.Errorf("GET: %d\n%s", resp.StatusCode, body)
			}
		})
	}
}

// testCert is a self-signed certificate for 127.0.0.1 and localhost, with
// the configurations that serve and trust it.
type testCert struct {
	server           *tls.Config // serves the certificate
	client           *tls.Config // trusts it
	certPEM, keyPEM  []byte
	certFile, keyFil string
}

func selfSigned(t *testing.T) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "prom test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	c := testCert{
		server:  &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}},
		client:  &tls.Config{RootCAs: pool},
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	dir := t.TempDir()
	c.certFile, c.keyFil = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(c.certFile, c.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.keyFil, c.keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServiceTLS(t *testing.T) {
	g := checkGoroutines()
	cert := selfSigned(t)
	weak := &tls.Config{MinVersion: tls.VersionTLS10, Certificates: cert.server.Certificates}
	for _, tc := range []struct {
		name string
		s    *Service
	}{
		{"TLSConfig", &Service{TLSConfig: cert.server}},
		{"CertFile and KeyFile", &Service{CertFile: cert.certFile, KeyFile: cert.keyFil}},
		{"TLSConfig with MinVersion 1.0", &Service{TLSConfig: weak}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			l, logged := bufLogger()
			s.Registry, s.Addr, s.ErrorLog = handlerRegistry(t), "127.0.0.1:0", l
			if err := s.Start(context.Background()); err != nil {
				t.Fatalf("Start: %v", err)
			}
			defer s.Stop(context.Background())
			metricsURL := mustURL(t, s.MetricsURL)
			if !strings.HasPrefix(metricsURL, "https://127.0.0.1:") {
				t.Errorf("MetricsURL = %q, want https://127.0.0.1:<port>/metrics", metricsURL)
			}
			resp, body := get(t, testClient(cert.client), http.MethodGet, metricsURL, nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "hits_total 4") {
				t.Errorf("GET: %d\n%s", resp.StatusCode, body)
			}
			if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
				t.Errorf("connection state %+v, want TLS 1.2 or later", resp.TLS)
			}

			// TLS below 1.2 is refused, even when the TLSConfig allows it.
			old := cert.client.Clone()
			old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
			if _, err := testClient(old).Get(metricsURL); err == nil {
				t.Errorf("a TLS 1.1 client was served")
			}
			// The server logs the failed handshake after the client has
			// seen it fail: wait for the line.
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logged.String(), "unsupported versions") && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			if !strings.Contains(logged.String(), "unsupported versions") {
				t.Errorf("the server did not refuse TLS 1.1 itself; its log:\n%s", logged)
			}
			// A client that does not trust the certificate is refused.
			if _, err := testClient(nil).Get(metricsURL); err == nil {
				t.Errorf("a client without the certificate in its pool was served")
			}
			// Plain HTTP on the TLS port gets no metrics.
			plain := strings.Replace(metricsURL, "https://", "http://", 1)
			if resp, err := testClient(nil).Get(plain); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK || strings.Contains(string(b), "hits_total") {
					t.Errorf("plain HTTP on the TLS port: %d\n%s", resp.StatusCode, b)
				}
			}
			if err := s.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
	}
	if weak.MinVersion != tls.VersionTLS10 {
		t.Errorf("Start changed the caller's TLSConfig")
	}
	g.verify(t)
}

func TestServiceBasicAuth(t *testing.T) {
	cert := selfSigned(t)
	s := &Service{
		Registry:  handlerRegistry(t),
		Addr:      "127.0.0.1:0",
		TLSConfig: cert.server,
		BasicAuth: &BasicAuth{Username: "prometheus", Password: "s3cret pass"},
	}
	startService(t, s)
	base := mustURL(t, s.BaseURL)
	metricsURL := mustURL(t, s.MetricsURL)
	client := testClient(cert.client)
	withAuth := func(user, pass string) http.Header {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(user, pass)
		return req.Header
	}
	for _, tc := range []struct {
		name   string
		url    string
		header http.Header
		code   int
	}{
		{"no credentials", metricsURL, nil, 401},
		{"wrong password", metricsURL, withAuth("prometheus", "s3cret"), 401},
		{"wrong user", metricsURL, withAuth("grafana", "s3cret pass"), 401},
		{"empty credentials", metricsURL, withAuth("", ""), 401},
		{"not basic", metricsURL, http.Header{"Authorization": {"Bearer s3cret pass"}}, 401},
		{"right credentials", metricsURL, withAuth("prometheus", "s3cret pass"), 200},
		{"index without credentials", base + "/", nil, 200},
		{"robots.txt without credentials", base + "/robots.txt", nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, client, http.MethodGet, tc.url, tc.header)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tc.code, body)
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			switch tc.code {
			case 401:
				if challenge != `Basic realm="metrics", charset="UTF-8"` {
					t.Errorf("WWW-Authenticate = %q", challenge)
				}
				if strings.Contains(body, "hits_total") {
					t.Errorf("metrics served without authentication:\n%s", body)
				}
			case 200:
				if challenge != "" {
					t.Errorf("WWW-Authenticate = %q on success", challenge)
				}
				if tc.url == metricsURL && !strings.Contains(body, "hits_total 4") {
					t.Errorf("body lacks the metrics:\n%s", body)
				}
			}
		})
	}
}

// TestServiceSlowClient checks that a client that never finishes its
// headers is cut off after ReadHeaderTimeout.
func TestServiceSlowClient(t *testing.T) {
	g := checkGoroutines()
	const readHeaderTimeout = 200 * time.Millisecond
	s := &Service{Registry: handlerRegistry(t), Addr: "127.0.0.1:0", ReadHeaderTimeout: readHeaderTimeout}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(mustURL(t, s.BaseURL))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: "+u.Host+"\r\nUser-Agent: slow"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(conn) // until the server closes the connection
	elapsed := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %v", elapsed)
	}
	if bytes.Contains(got, []byte("hits_total")) {
		t.Errorf("an unfinished request was served:\n%s", got)
	}
	if elapsed < readHeaderTimeout-10*time.Millisecond || elapsed > readHeaderTimeout+10*time.Second {
		t.Errorf("connection closed after %v, want about %v", elapsed, readHeaderTimeout)
	}
	t.Logf("connection closed after %v (err %v, %q)", elapsed, err, got)
	if err := s.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	g.verify(t)
}

// TestServiceStopGraceful checks that Stop lets a scrape in progress
// finish.
func TestServiceStopGraceful(t *testing.T) {
	g := checkGoroutines()
	reg := handlerRegistry(t)
	gt := newGate()
	reg.MustRegister(gt)
	s := &Service{Registry: reg, Addr: "127.0.0.1:0"}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	metricsURL := mustURL(t, s.MetricsURL)
	type result struct {
		code int
		body string
		err  error
	}
	scraped := make(chan result, 1)
	go func() {
		resp, err := testClient(nil).Get(metricsURL)
		if err != nil {
			scraped <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		scraped <- result{resp.StatusCode, string(b), err}
	}()
	waitFor(t, gt.entered, "the scrape to reach the collector")
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(context.Background()) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned while a scrape was in progress: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := s.MetricsURL(); !errors.Is(err, ErrServiceNotRunning) {
		t.Errorf("MetricsURL while stopping = %v, want ErrServiceNotRunning", err)
	}
	close(gt.release)
	r := waitFor(t, scraped, "the scrape")
	if r.err != nil || r.code != http.StatusOK || !strings.Contains(r.body, "gated 1") {
		t.Errorf("scrape during Stop: %d %v\n%s", r.code, r.err, r.body)
	}
	if err := waitFor(t, stopped, "Stop"); err != nil {
		t.Errorf("Stop: %v", err)
	}
	g.verify(t)
}

// TestServiceStopBounded checks that Stop returns, and cancels the scrape,
// when a scrape does not finish within the grace period.
func TestServiceStopBounded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		shutdown time.Duration
		ctx      time.Duration // Stop's context's timeout; 0: none
	}{
		{"ShutdownTimeout", 200 * time.Millisecond, 0},
		{"context", -1, 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := checkGoroutines()
			reg := handlerRegistry(t)
			gt := newGate()
			reg.MustRegister(gt)
			s := &Service{Registry: reg, Addr: "127.0.0.1:0", ShutdownTimeout: tc.shutdown}
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			scraped := make(chan error, 1)
			go func() {
				resp, err := testClient(nil).Get(mustURL(t, s.MetricsURL))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				scraped <- err
			}()
			waitFor(t, gt.entered, "the scrape to reach the collector")
			ctx := context.Background()
			if tc.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctx)
				defer cancel()
			}
			start := time.Now()
			err := s.Stop(ctx)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Stop took %v", d)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Stop = %v, want an error wrapping context.DeadlineExceeded", err)
			}
			if err := waitFor(t, gt.sawDone, "the collector to see its context done"); !errors.Is(err, context.Canceled) {
				t.Errorf("collector saw %v, want context.Canceled", err)
			}
			waitFor(t, scraped, "the scrape to end")
			g.verify(t)
		})
	}
}
