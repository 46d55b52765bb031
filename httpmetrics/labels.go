package httpmetrics

import (
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// The label values that stand for many requests, so that scanners sending
// random paths and invented methods create no new series.
const (
	// Unmatched is the route of a request that matched no route: a 404 or
	// 405 from the router, or a redirect the router made up.
	Unmatched = "unmatched"
	// OtherMethod is the method of a request whose method is neither one of
	// the nine that net/http names (http.MethodGet and so on) nor one given
	// to [WithMethods].
	OtherMethod = "other"
)

// standardMethods are the nine methods that net/http names.
var standardMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace,
}

// method returns the method label for m: the known method equal to m (a
// constant string that does not keep the request alive), or OtherMethod.
func (mw *Middleware) method(m string) string {
	for _, known := range mw.methods {
		if m == known {
			return known
		}
	}
	return OtherMethod
}

// codeText holds the label values of the status codes 100 to 599.
var codeText = func() (t [600]string) {
	for c := 100; c < len(t); c++ {
		t[c] = strconv.Itoa(c)
	}
	return t
}()

// classText holds the label values of the status code classes.
var classText = [10]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"}

// OtherCode is the code label of a status outside 100-999, which no
// HTTP response can carry (net/http refuses it; an adapter or a custom
// ResponseWriter might not): one value, so such codes make no new series.
const OtherCode = "other"

// code returns the label value of a status code.
func (mw *Middleware) code(c int) string {
	switch {
	case c < 100 || c > 999:
		return OtherCode
	case mw.group:
		return classText[c/100]
	case c < len(codeText):
		return codeText[c]
	}
	return strconv.Itoa(c) // 600-999: at most 400 values
}

// muxRoute returns the route that http.ServeMux matched for r, read from
// r.Pattern once the mux has served r: the pattern without its method
// ("GET /users/{id}" gives "/users/{id}"), or "" when no pattern matched or
// the mux answered with a redirect of its own. header is the response's
// header, read for a redirect only.
func muxRoute(r *http.Request, code int, header http.Header) string {
	p := r.Pattern
	if p == "" || muxRedirect(r, p, code, header) {
		return ""
	}
	return withoutMethod(p)
}

// withoutMethod returns pattern p without its method, if it has one. It
// is what strings.IndexAny and strings.TrimLeft with " \t" do, without
// their set of bytes built at every call: a pattern starting with a slash
// (most of those without a method) returns at once.
func withoutMethod(p string) string {
	for i := 0; i < len(p) && p[i] != '/'; i++ {
		if p[i] != ' ' && p[i] != '\t' {
			continue
		}
		for i++; i < len(p) && (p[i] == ' ' || p[i] == '\t'); i++ {
		}
		return p[i:]
	}
	return p
}

// muxRedirect reports whether ServeMux answered r itself with a redirect
// (status 301, 307 or 308), so that the request reached no handler: to its
// path plus a slash (a request for /x where only /x/ is registered), or to
// its cleaned path (/a//b, /a/./b). Such a request is recorded as
// unmatched, though the mux sets the pattern: to the pattern the target
// would match, or, for the slash redirect before Go 1.25 (and for CONNECT
// on every release, golang/go#73688), to the target path itself, which a
// client chooses freely. It is recognised by that pattern, or by a
// Location whose path is the one the mux redirects to.
func muxRedirect(r *http.Request, p string, code int, header http.Header) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return false
	}
	// The mux appends the slash to the escaped path, cleaned unless the
	// method is CONNECT.
	if dir, ok := strings.CutSuffix(p, "/"); ok {
		for _, q := range [...]string{r.URL.Path, r.URL.EscapedPath()} {
			if dir == q || dir == muxCleanPath(q) {
				return true
			}
		}
	}
	target, _, _ := strings.Cut(header.Get("Location"), "?")
	if !strings.HasPrefix(target, "/") {
		return false
	}
	target, err := url.PathUnescape(target)
	if err != nil {
		return false
	}
	if target == muxCleanPath(r.URL.Path)+"/" {
		// The slash redirect goes to a path that p matches exactly: as
		// many segments (p's wildcards take one each, a trailing {$} or
		// {name...} none). A handler of p that redirects to the path plus
		// a slash itself, as one of pattern / may, ran.
		pp := withoutMethod(p)
		if i := strings.IndexByte(pp, '/'); i > 0 {
			pp = pp[i:] // without the host
		}
		// Segments of the path the mux matched: escaped, where a %2F
		// is no separator, as it is in the decoded target.
		return strings.Count(pp, "/") == strings.Count(muxCleanPath(r.URL.EscapedPath())+"/", "/")
	}
	// A handler never sees an unclean path: the mux redirects it first.
	return r.Method != http.MethodConnect && target == muxCleanPath(r.URL.EscapedPath()) && target != r.URL.EscapedPath()
}

// muxCleanPath cleans p as ServeMux does before it matches: rooted, with
// . and .. and double slashes resolved, and a trailing slash kept.
func muxCleanPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// SetRoute sets the route label of the request whose ResponseWriter is w,
// for handlers behind [Middleware.Wrap] that know their route better than
// the middleware can tell: routers other than [http.ServeMux], or a
// ServeMux mounted under another one with [http.StripPrefix] (whose
// pattern lacks the prefix). It finds the middleware's writer through w's
// Unwrap methods and reports whether it did. The route must be a template
// (/users/{id}), never a raw path, or every path becomes a series; ""
// records the request as [Unmatched]. The last call wins, and it overrides
// [WithRouteFunc].
func SetRoute(w http.ResponseWriter, route string) bool {
	for {
		switch rw := w.(type) {
		case *responseWriter:
			rw.route, rw.routeSet = route, true
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = rw.Unwrap()
		default:
			return false
		}
	}
}
