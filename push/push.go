package push

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/promgo/prom"
)

// Errors of New's arguments and of the label check; match them with
// errors.Is. The error's text names the bad value.
var (
	// ErrInvalidGrouping reports an empty job name, a grouping label name
	// the Pushgateway does not accept (or job, or one beginning with __),
	// or a job or label value that is not valid UTF-8.
	ErrInvalidGrouping = errors.New("invalid grouping key")
	// ErrLabelConflict reports a pushed metric that carries the job label
	// or a label of the grouping key itself. The Pushgateway would
	// overwrite it with the value from the push URL, so Add and Replace
	// refuse to send it.
	ErrLabelConflict = errors.New("label conflict")
)

// errNilContext is what Add, Replace, Delete and Run return for a nil
// context, as net/http does, rather than panicking.
var errNilContext = errors.New("push: nil Context")

// Option configures a Pusher; see New.
type Option func(*config)

type config struct {
	grouping prom.Labels
	reg      *prom.Registry
	client   *http.Client
	format   prom.Format
	gzip     bool
	header   http.Header
	auth     *basicAuth
	path     *string // WithPath's
}

type basicAuth struct{ user, pass string }

// WithGrouping adds labels to the grouping key. The job name is New's
// second argument, so the labels cannot include job. Several WithGrouping
// options add up; a later value replaces an earlier one of the same name.
// Any valid UTF-8 value works, the empty one and those holding a / included.
func WithGrouping(labels prom.Labels) Option {
	return func(c *config) {
		if c.grouping == nil {
			c.grouping = prom.Labels{}
		}
		maps.Copy(c.grouping, labels)
	}
}

// WithRegistry pushes reg instead of prom.Default (which a nil reg also
// means).
func WithRegistry(reg *prom.Registry) Option {
	return func(c *config) { c.reg = reg }
}

// WithClient sends the requests with client instead of
// http.DefaultClient: for TLS settings (a private CA, client
// certificates), a proxy, or a timeout. http.DefaultClient has no timeout
// of its own; the context given to each call bounds it.
func WithClient(client *http.Client) Option {
	return func(c *config) { c.client = client }
}

// WithBasicAuth sends every request with HTTP basic authentication. Use
// TLS (an https gateway URL): basic auth sends the password in clear. The
// username must not hold a colon, which would end it (New refuses it).
func WithBasicAuth(username, password string) Option {
	return func(c *config) { c.auth = &basicAuth{username, password} }
}

// WithHeader adds a header to every request, such as an Authorization
// bearer token for a proxy in front of the gateway. It may be given more
// than once, also for the same key. Content-Type, Content-Encoding and
// Content-Length are the Pusher's to set (see WithFormat and WithGzip),
// and Host, Transfer-Encoding, Connection, Trailer and Upgrade, which
// concern the connection or the message framing, Go's HTTP client's: New
// refuses them. WithBasicAuth replaces an Authorization
// header.
func WithHeader(key, value string) Option {
	return func(c *config) {
		if c.header == nil {
			c.header = http.Header{}
		}
		c.header.Add(key, value)
	}
}

// WithPath sends every request to path on the gateway URL's host, as it
// is: the gateway URL's path is replaced by path (its query is kept), and
// no /metrics/job/<job> or grouping key is added. It serves receivers that
// take pushes at a fixed path, such as VictoriaMetrics'
// /api/v1/import/prometheus, as the path argument of aioprometheus's
// Pusher does. Such a receiver learns no job and no grouping labels from
// the URL, so with WithPath New wants an empty job and no WithGrouping, and
// Add and Replace push metrics that carry those labels themselves. path
// must begin with a / and may hold percent-escapes, not a query. Such
// receivers usually read the text format only (VictoriaMetrics' does): add
// WithFormat(prom.FormatText), as the body is protobuf by default.
func WithPath(path string) Option {
	return func(c *config) { c.path = &path }
}

// WithFormat sets the format of the pushed body: prom.FormatProtobuf (the
// default) or prom.FormatText. The Pushgateway does not read OpenMetrics.
func WithFormat(f prom.Format) Option {
	return func(c *config) { c.format = f }
}

// WithGzip compresses the bodies of Add and Replace with gzip
// (Content-Encoding: gzip), which the Pushgateway accepts.
func WithGzip() Option {
	return func(c *config) { c.gzip = true }
}

// Pusher pushes a registry's metrics to one group of a Prometheus
// Pushgateway: the group of a job name and an optional grouping key.
// Create one with New; its methods are safe for concurrent use.
type Pusher struct {
	url      string // the group's URL
	redacted string // the same, with any password hidden, for errors
	reg      *prom.Registry
	client   *http.Client
	format   prom.Format
	gzip     bool
	header   http.Header
	auth     *basicAuth
	reserved []string  // job and the grouping label names
	gzips    sync.Pool // of *gzip.Writer, each costing hundreds of KiB
}

// New returns a Pusher for the group of job and the grouping labels given
// with WithGrouping, on the Pushgateway at gatewayURL.
//
// gatewayURL is the gateway's base URL, such as http://pushgateway:9091;
// a path in it is kept as a prefix (http://proxy/pgw pushes to
// http://proxy/pgw/metrics/job/...), so it must not end in /metrics or
// /metrics/job, nor hold /metrics/job/ (New refuses such a URL). The
// group's path is built as the Pushgateway documents it: the grouping
// labels in name order; a value holding a /, an empty one, and "." and
// ".." in the @base64 form; others percent-encoded.
//
// With WithPath, the path given there replaces all of that.
//
// New fails on a URL that is not http or https, an empty job name, a
// grouping label name that is not valid (or is job), a job or value that is
// not valid UTF-8, a format other than protobuf or text, a header that
// HTTP cannot carry or that the Pusher sets itself, and a basic auth
// username holding a colon. It sends nothing.
func New(gatewayURL, job string, opts ...Option) (*Pusher, error) {
	c := config{format: prom.FormatProtobuf}
	for _, o := range opts {
		if o != nil { // as the other packages of prom skip nil options
			o(&c)
		}
	}
	gw, err := url.Parse(gatewayURL)
	if err != nil {
		return nil, fmt.Errorf("push: gateway URL: %w", err)
	}
	if gw.Scheme != "http" && gw.Scheme != "https" || gw.Host == "" {
		return nil, fmt.Errorf("push: gateway URL %q must be http:// or https:// and name a host, as in http://pushgateway:9091", gw.Redacted())
	}
	if c.path != nil {
		return newVerbatim(gw, job, &c)
	}
	if isGroupPath(gw.Path) {
		return nil, fmt.Errorf("push: gateway URL %q: give the gateway's base URL, such as http://pushgateway:9091; the Pusher adds /metrics/job/<job> itself", gw.Redacted())
	}
	if err := checkJob(job); err != nil {
		return nil, err
	}
	names := sortedNames(c.grouping)
	for _, name := range names {
		if err := checkGroupingLabel(name, c.grouping[name]); err != nil {
			return nil, err
		}
	}
	u, err := groupURL(gw, job, names, c.grouping)
	if err != nil {
		return nil, err
	}
	return newPusher(u, append([]string{"job"}, names...), &c)
}

// isGroupPath reports whether path is, or begins, a path the Pusher builds
// itself: one ending in /metrics or /metrics/job (with or without trailing
// slashes), or holding /metrics/job/. A gateway URL with such a path would
// push to the wrong group (http://pgw/metrics/job/ would push job "x" to
// /metrics/job/metrics/job/x, which the Pushgateway reads as the group
// {job="metrics"}).
func isGroupPath(path string) bool {
	path = strings.TrimRight(path, "/")
	return strings.HasSuffix(path, "/metrics") || strings.HasSuffix(path, "/metrics/job") ||
		strings.Contains(path, "/metrics/job/")
}

// newVerbatim is New with WithPath.
func newVerbatim(gw *url.URL, job string, c *config) (*Pusher, error) {
	path := *c.path
	switch {
	case !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#"):
		return nil, fmt.Errorf("push: WithPath(%q): the path must begin with / and hold no query or fragment", path)
	case job != "":
		return nil, fmt.Errorf("push: job %q: WithPath sends no job; give New an empty job, and the metrics a job label if the receiver needs one", job)
	case len(c.grouping) > 0:
		return nil, fmt.Errorf("push: %w: WithPath sends no grouping key; give the metrics those labels instead", ErrInvalidGrouping)
	}
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return nil, fmt.Errorf("push: WithPath(%q): %w", path, err)
	}
	u := *gw
	u.Path, u.RawPath = unescaped, path
	u.Fragment, u.RawFragment = "", ""
	return newPusher(&u, nil, c)
}

// newPusher returns a Pusher that sends to u, for New; reserved are the
// labels the pushed metrics must not carry.
func newPusher(u *url.URL, reserved []string, c *config) (*Pusher, error) {
	if c.format != prom.FormatProtobuf && c.format != prom.FormatText {
		return nil, fmt.Errorf("push: format %v: the Pushgateway reads only protobuf and text", c.format)
	}
	for key, values := range c.header {
		if err := checkHeader(key, values); err != nil {
			return nil, err
		}
	}
	if c.auth != nil && strings.Contains(c.auth.user, ":") {
		return nil, fmt.Errorf("push: basic auth username %q holds a colon, which HTTP basic auth reads as the end of the username", c.auth.user)
	}
	p := &Pusher{
		url:      u.String(),
		redacted: u.Redacted(),
		reg:      c.reg,
		client:   c.client,
		format:   c.format,
		gzip:     c.gzip,
		header:   c.header,
		auth:     c.auth,
		reserved: reserved,
	}
	if p.reg == nil {
		p.reg = prom.Default
	}
	if p.client == nil {
		p.client = http.DefaultClient
	}
	return p, nil
}

// URL returns the URL of the Pusher's group (or WithPath's URL), with any
// password in the gateway URL replaced by xxxxx. It is the URL Add, Replace
// and Delete use.
func (p *Pusher) URL() string { return p.redacted }

// Add pushes the registry with POST: in the group, the metrics with the
// names pushed replace those of the same names, and the group's other
// metrics stay. Use it when several pushes make up one group, or when a run
// must not erase what an earlier run pushed (a last-success time).
//
// Add collects the registry first and sends nothing when collection fails
// or a metric carries the job label or a grouping label (ErrLabelConflict).
// A gateway answer other than 2xx is a *StatusError.
func (p *Pusher) Add(ctx context.Context) error { return p.push(ctx, http.MethodPost) }

// Replace pushes the registry with PUT: the metrics pushed replace the
// whole group, so a metric no longer in the registry disappears from it.
// An empty registry empties the group. Errors are as for Add.
func (p *Pusher) Replace(ctx context.Context) error { return p.push(ctx, http.MethodPut) }

// Delete removes the group and all its metrics from the gateway, with a
// DELETE without a body. Deleting a group that does not exist succeeds.
// Groups of the same job with other grouping keys stay.
func (p *Pusher) Delete(ctx context.Context) error {
	if ctx == nil {
		return errNilContext
	}
	return p.send(ctx, http.MethodDelete, nil, false)
}

func (p *Pusher) push(ctx context.Context, method string) error {
	if ctx == nil {
		return errNilContext
	}
	body, err := p.reg.Append(ctx, nil, p.format)
	if err != nil {
		// A partial push would make a Replace drop the missing metrics
		// from the group: push all or nothing.
		return fmt.Errorf("push: collecting the metrics failed, nothing was pushed: %w", err)
	}
	if len(p.reserved) > 0 {
		if err := checkLabels(body, p.format, p.reserved); err != nil {
			return err
		}
	}
	if p.gzip {
		if body, err = p.compress(body); err != nil {
			return err
		}
	}
	return p.send(ctx, method, body, true)
}

// compress returns body compressed with gzip.
func (p *Pusher) compress(body []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(body)/4 + 64)
	zw, _ := p.gzips.Get().(*gzip.Writer)
	if zw == nil {
		zw = gzip.NewWriter(&buf)
	} else {
		zw.Reset(&buf)
	}
	defer func() {
		zw.Reset(io.Discard) // let go of buf
		p.gzips.Put(zw)
	}()
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("push: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("push: gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// maxMessage bounds the gateway's answer kept in a StatusError.
const maxMessage = 4 << 10

// send makes one request and turns a failure into an error.
func (p *Pusher) send(ctx context.Context, method string, body []byte, hasBody bool) error {
	var r io.Reader
	if hasBody {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.url, r)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if p.header != nil {
		req.Header = p.header.Clone()
	}
	if hasBody {
		req.Header.Set("Content-Type", p.format.ContentType())
		if p.gzip {
			req.Header.Set("Content-Encoding", "gzip")
		}
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "github.com/promgo/prom/push")
	}
	if p.auth != nil {
		req.SetBasicAuth(p.auth.user, p.auth.pass)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("push: %w", err) // a *url.Error naming method and URL
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxMessage+1))
	// Drain a little more so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.Request != nil && resp.Request.Method != method {
		// 301, 302 and 303 turn a POST or PUT into a GET without a body.
		return fmt.Errorf("push: %s %s was redirected to %s %s; give New the URL the gateway answers at", method, p.redacted, resp.Request.Method, resp.Request.URL.Redacted())
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newStatusError(method, p.redacted, resp.StatusCode, msg)
	}
	return nil
}

// StatusError is the error of a request that the gateway answered with a
// status other than 2xx: 400 for a malformed push or one inconsistent
// with the metrics the gateway holds, 401 or 403 for missing credentials,
// 5xx for a failing gateway or proxy. Match it with errors.As.
type StatusError struct {
	Method     string // POST, PUT or DELETE
	URL        string // the group's URL, any password hidden
	StatusCode int    // such as 400
	// Message is the body of the answer, which holds the gateway's
	// explanation: trimmed of surrounding white space and cut after 4 KiB
	// (with "..." appended).
	Message string
}

func newStatusError(method, url string, code int, msg []byte) *StatusError {
	cut := len(msg) > maxMessage
	if cut {
		msg = msg[:maxMessage]
	}
	m := strings.TrimSpace(strings.ToValidUTF8(string(msg), "\uFFFD"))
	if cut {
		m += "..."
	}
	return &StatusError{Method: method, URL: url, StatusCode: code, Message: m}
}

// Error returns the method, URL, status and message.
func (e *StatusError) Error() string {
	s := fmt.Sprintf("push: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// checkHeader validates a header for HTTP/1.1: a token as key, and values
// without control characters other than tab.
func checkHeader(key string, values []string) error {
	if key == "" || strings.IndexFunc(key, func(r rune) bool {
		return r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	}) >= 0 {
		return fmt.Errorf("push: header name %q is not valid", key)
	}
	switch http.CanonicalHeaderKey(key) {
	case "Content-Type", "Content-Encoding", "Content-Length":
		return fmt.Errorf("push: header %s is the Pusher's to set: the body's format and compression follow WithFormat and WithGzip", key)
	case "Host", "Transfer-Encoding", "Connection", "Trailer", "Upgrade":
		return fmt.Errorf("push: header %s concerns the connection or the message framing, which Go's HTTP client manages; the gateway URL gives the host", key)
	}
	for _, v := range values {
		if strings.IndexFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) >= 0 {
			return fmt.Errorf("push: value %q of header %s holds a control character", v, key)
		}
	}
	return nil
}
