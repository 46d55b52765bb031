package prom

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"html"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The defaults of a Service's settings, used when a field is zero.
const (
	defaultMetricsPath       = "/metrics"
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 30 * time.Second
	defaultWriteTimeout      = 60 * time.Second
	defaultIdleTimeout       = 2 * time.Minute
	defaultMaxHeaderBytes    = 64 << 10
	defaultShutdownTimeout   = 5 * time.Second
)

// Errors of a [Service]'s life cycle.
var (
	// ErrServiceRunning is returned by Start on a running service.
	ErrServiceRunning = errors.New("prom: metrics service is already running")
	// ErrServiceNotRunning is returned by Stop and the URL methods when
	// the service has not been started or has been stopped.
	ErrServiceNotRunning = errors.New("prom: metrics service is not running")
)

// Service is a dedicated HTTP server for metrics, as aioprometheus's
// Service is: it serves a registry at MetricsPath, a small HTML index
// linking it at / (200, fit for a health check), and a disallow-all
// /robots.txt; other paths get 404.
//
// Set the fields, then call [Service.Start]; the zero value serves
// [Default] at /metrics on an ephemeral port of every interface, over plain
// HTTP, with safe timeouts. Fields are read by Start: changing them later
// takes effect at the next Start. [Service.Stop] shuts the server down, after
// which Start may run it again. The methods are safe for concurrent use.
type Service struct {
	// Registry is the registry served; nil means Default.
	Registry *Registry
	// Addr is the TCP address to listen on, host:port. An empty host
	// means every interface and port 0 (or an empty Addr) an ephemeral
	// port, which BaseURL reports.
	Addr string
	// MetricsPath is the path of the metrics, beginning with / and
	// holding no ? or #; empty means /metrics. It is matched exactly
	// against a request's decoded path; / replaces the index. MetricsURL
	// and the index escape it (a space as %20, a % as %25).
	MetricsPath string

	// TLSConfig, when not nil, turns on HTTPS. It must hold a certificate
	// (Certificates, GetCertificate or GetConfigForClient) unless
	// CertFile and KeyFile give one. A MinVersion below TLS 1.2 is raised
	// to 1.2, and a MaxVersion below MinVersion is an error. Start uses a
	// copy.
	TLSConfig *tls.Config
	// CertFile and KeyFile, when set, name a PEM certificate (with its
	// chain) and key that Start loads; they turn on HTTPS.
	CertFile, KeyFile string

	// BasicAuth, when not nil, makes the metrics path require these
	// credentials. The index and robots.txt stay open: they reveal only
	// the metrics path, and health checks and crawlers need no
	// credentials. Without TLS the password crosses the network in clear.
	BasicAuth *BasicAuth

	// HandlerOptions configure the metrics handler, as for [Handler].
	HandlerOptions []HandlerOption
	// ErrorLog receives the server's errors (failed TLS handshakes,
	// accept errors) and the metrics handler's; nil means the standard
	// logger. A HandlerOptions entry WithErrorLog overrides it for the
	// handler.
	ErrorLog *log.Logger

	// The server's timeouts, as in http.Server. Zero means the default:
	// ReadHeaderTimeout 10s, ReadTimeout 30s, WriteTimeout 60s and
	// IdleTimeout 2m; a negative value means no timeout. ReadHeaderTimeout
	// cuts off a client that never finishes its request headers.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes bounds the size of the request headers; zero means
	// 64 KiB.
	MaxHeaderBytes int
	// ShutdownTimeout bounds how long Stop waits for requests in progress
	// before closing their connections, when Stop's context does not end
	// first; zero means 5s, and a negative value waits for the context
	// alone.
	ShutdownTimeout time.Duration

	mu  sync.Mutex                 // serialises Start and Stop
	run atomic.Pointer[serviceRun] // nil when not running
}

// BasicAuth holds the credentials that a [Service] requires for its
// metrics path. They are compared in constant time.
type BasicAuth struct {
	Username string // must be non-empty and hold no colon
	Password string
	Realm    string // shown by browsers; empty means "metrics"
}

// serviceRun is one run of a Service, from Start to Stop.
type serviceRun struct {
	srv     *http.Server
	baseURL string
	path    string
	cancel  context.CancelFunc // cancels the requests' contexts
	done    chan struct{}      // closed when Serve has returned
	err     error              // what Serve returned, unless ErrServerClosed; read after done
}

// Start starts serving and returns once the service is listening, so that
// its URLs are known and scrapes succeed. It reports a bad setting, an
// address that cannot be bound and a certificate that cannot be loaded,
// and returns [ErrServiceRunning] when the service runs already. ctx bounds
// the start only; cancelling it later does not stop the service.
func (s *Service) Start(ctx context.Context) error {
	if ctx == nil {
		return errNilContext
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run.Load() != nil {
		return ErrServiceRunning
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("prom: metrics service not started: %w", err)
	}
	path := s.MetricsPath
	if path == "" {
		path = defaultMetricsPath
	}
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("prom: metrics service: MetricsPath %q does not begin with /", path)
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		return fmt.Errorf("prom: metrics service: MetricsPath %q holds %q: a path has no query or fragment", path, path[i])
	}
	tlsConfig, err := s.tlsConfig()
	if err != nil {
		return err
	}
	if a := s.BasicAuth; a != nil && (a.Username == "" || strings.Contains(a.Username, ":")) {
		return errors.New("prom: metrics service: BasicAuth.Username must be non-empty and hold no colon")
	}
	addr := s.Addr
	if addr == "" {
		addr = ":0"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("prom: metrics service: %w", err)
	}

	baseCtx, cancel := context.WithCancel(context.Background())
	run := &serviceRun{
		baseURL: baseURL(ln.Addr(), tlsConfig != nil),
		path:    path,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	run.srv = &http.Server{
		Handler:           s.handler(path),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: orDefault(s.ReadHeaderTimeout, defaultReadHeaderTimeout),
		ReadTimeout:       orDefault(s.ReadTimeout, defaultReadTimeout),
		WriteTimeout:      orDefault(s.WriteTimeout, defaultWriteTimeout),
		IdleTimeout:       orDefault(s.IdleTimeout, defaultIdleTimeout),
		MaxHeaderBytes:    positiveOr(s.MaxHeaderBytes, defaultMaxHeaderBytes),
		ErrorLog:          s.ErrorLog,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
	}
	go func() {
		defer close(run.done)
		var err error
		if tlsConfig != nil {
			err = run.srv.ServeTLS(ln, "", "")
		} else {
			err = run.srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			run.err = err
			s.logf("prom: metrics service stopped serving: %v", err)
		}
	}()
	s.run.Store(run)
	return nil
}

// Stop shuts the service down gracefully: it stops listening, lets the
// requests in progress finish until ctx ends or ShutdownTimeout passes,
// then closes the connections left and cancels their requests' contexts.
// When Stop returns the service is stopped and the goroutine that accepted
// connections has ended, whatever the error; the error says whether
// requests were cut off, or why serving had stopped. (A request blocked in
// a collector that ignores its context ends when that collector returns.) Stop returns [ErrServiceNotRunning] when
// the service is not running.
func (s *Service) Stop(ctx context.Context) error {
	if ctx == nil {
		return errNilContext
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	run := s.run.Swap(nil)
	if run == nil {
		return ErrServiceNotRunning
	}
	if d := orDefault(s.ShutdownTimeout, defaultShutdownTimeout); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	err := run.srv.Shutdown(ctx)
	run.cancel()
	if err != nil {
		run.srv.Close()
		err = fmt.Errorf("prom: metrics service stopped before its connections were done (requests in progress, or connections yet to send one, were cut off): %w", err)
	}
	<-run.done // Serve returns as soon as Shutdown or Close closes the listener
	return errors.Join(err, run.err)
}

// BaseURL returns the service's URL without a path, http://host:port or
// https://host:port, with the port bound (the real one when Addr asked for
// port 0) and IPv6 hosts in brackets. A service listening on every
// interface reports the host localhost. It returns [ErrServiceNotRunning]
// before Start and after Stop.
func (s *Service) BaseURL() (string, error) {
	run := s.run.Load()
	if run == nil {
		return "", ErrServiceNotRunning
	}
	return run.baseURL, nil
}

// RootURL returns BaseURL followed by /, the URL of the index page.
func (s *Service) RootURL() (string, error) {
	run := s.run.Load()
	if run == nil {
		return "", ErrServiceNotRunning
	}
	return run.baseURL + "/", nil
}

// MetricsURL returns BaseURL followed by the metrics path, escaped as a
// URL path.
func (s *Service) MetricsURL() (string, error) {
	run := s.run.Load()
	if run == nil {
		return "", ErrServiceNotRunning
	}
	return run.baseURL + escapePath(run.path), nil
}

// tlsConfig returns the TLS configuration to serve with, or nil for plain
// HTTP.
func (s *Service) tlsConfig() (*tls.Config, error) {
	if s.TLSConfig == nil && s.CertFile == "" && s.KeyFile == "" {
		return nil, nil
	}
	if (s.CertFile == "") != (s.KeyFile == "") {
		return nil, errors.New("prom: metrics service: CertFile and KeyFile must be set together")
	}
	var c *tls.Config
	if s.TLSConfig != nil {
		c = s.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if s.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("prom: metrics service: %w", err)
		}
		c.Certificates = append(c.Certificates, cert)
	}
	if len(c.Certificates) == 0 && c.GetCertificate == nil && c.GetConfigForClient == nil {
		return nil, errors.New("prom: metrics service: TLSConfig holds no certificate and CertFile is not set")
	}
	if get := c.GetConfigForClient; get != nil {
		// A per-client config replaces this one: hold it to TLS 1.2 too.
		c.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			pc, err := get(hello)
			if pc == nil || err != nil || pc.MinVersion >= tls.VersionTLS12 {
				return pc, err
			}
			pc = pc.Clone()
			pc.MinVersion = tls.VersionTLS12
			return pc, nil
		}
	}
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	if c.MaxVersion != 0 && c.MaxVersion < c.MinVersion {
		return nil, fmt.Errorf("prom: metrics service: TLSConfig.MaxVersion is %s, below the oldest version the service accepts, %s (MinVersion, at least TLS 1.2): no client could connect", tls.VersionName(c.MaxVersion), tls.VersionName(c.MinVersion))
	}
	return c, nil
}

// escapePath returns the metrics path as it goes in a URL: a request for
// that URL has the path itself as its decoded path, which the service
// matches (a space or a percent sign in MetricsPath is escaped, not sent
// as it is).
func escapePath(path string) string { return (&url.URL{Path: path}).EscapedPath() }

// indexLink returns the index page's link to the metrics path: escaped,
// and for a path beginning with //, which a browser would read as a host,
// with /. before it (which resolving the link removes).
func indexLink(path string) string {
	e := escapePath(path)
	if strings.HasPrefix(e, "//") {
		return "/." + e
	}
	return e
}

// robotsTxt keeps crawlers away from the whole service.
const robotsTxt = "User-agent: *\nDisallow: /\n"

// handler routes the service's paths. The metrics path is matched exactly,
// so any path Start accepts works, whatever characters it holds.
func (s *Service) handler(path string) http.Handler {
	opts := make([]HandlerOption, 0, len(s.HandlerOptions)+1)
	if s.ErrorLog != nil {
		opts = append(opts, WithErrorLog(s.ErrorLog))
	}
	opts = append(opts, s.HandlerOptions...)
	metrics := Handler(s.Registry, opts...)
	if s.BasicAuth != nil {
		metrics = basicAuth(*s.BasicAuth, metrics)
	}
	index := []byte(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Metrics</title></head>
<body><h1>Metrics</h1><p><a href="` + html.EscapeString(indexLink(path)) + `">` + html.EscapeString(path) + `</a></p></body></html>
`)
	robots := []byte(robotsTxt)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case path:
			metrics.ServeHTTP(w, r)
		case "/":
			serveStatic(w, r, "text/html; charset=utf-8", index)
		case "/robots.txt":
			serveStatic(w, r, "text/plain; charset=utf-8", robots)
		default:
			http.NotFound(w, r)
		}
	})
}

// serveStatic answers GET and HEAD with a fixed body.
func serveStatic(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Write(body)
}

// basicAuth wraps next with a check of the credentials. The user name and
// password are hashed before the constant-time comparison, so that neither
// their content nor their length shows in the time taken.
func basicAuth(a BasicAuth, next http.Handler) http.Handler {
	wantUser := sha256.Sum256([]byte(a.Username))
	wantPass := sha256.Sum256([]byte(a.Password))
	realm := a.Realm
	if realm == "" {
		realm = "metrics"
	}
	challenge := `Basic realm="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(realm) + `", charset="UTF-8"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		gotUser := sha256.Sum256([]byte(user))
		gotPass := sha256.Sum256([]byte(pass))
		match := subtle.ConstantTimeCompare(gotUser[:], wantUser[:]) &
			subtle.ConstantTimeCompare(gotPass[:], wantPass[:])
		if !ok || match != 1 {
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// baseURL returns the URL of a listener's address, without a path.
func baseURL(a net.Addr, https bool) string {
	scheme := "http"
	if https {
		scheme = "https"
	}
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return scheme + "://" + a.String()
	}
	host := ta.IP.String()
	switch {
	case ta.IP.IsUnspecified():
		host = "localhost"
	case ta.Zone != "":
		host += "%25" + ta.Zone // a zone in a URL is escaped (RFC 6874)
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(ta.Port))
}

// orDefault returns d, def when d is zero, and 0 (no timeout) when d is
// negative.
func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

func positiveOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func (s *Service) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}
