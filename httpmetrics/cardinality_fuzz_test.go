package httpmetrics_test

// The middleware's cardinality guarantee under the fuzzer (issue 8,
// item 6): random methods, paths, hosts and status codes, through a
// ServeMux with a few routes, never make more series than
// (routes+1) x (known methods+1) x (status codes sent), whatever the raw
// path, and every request is counted once. FuzzLabels (fuzz_test.go)
// checks the label values of one family; this target checks the series
// counts of every family, the status codes and the counts.
//
//	go test -run '^$' -fuzz '^FuzzCardinality$' -fuzztime 100000x ./httpmetrics/

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

// cardinalityRoutes are the patterns of the fuzzed mux, and the routes
// they record (the pattern without its method).
var cardinalityRoutes = map[string]string{
	"GET /users/{id}":        "/users/{id}",
	"/items/{id}":            "/items/{id}",
	"POST /orders/":          "/orders/",
	"/static/":               "/static/",
	"/{$}":                   "/{$}",
	"/files/{path...}":       "/files/{path...}",
	"api.example.com/x/{id}": "api.example.com/x/{id}",
}

// The handlers' behaviour, chosen by the fuzzer.
const (
	modeWriteHeader      = iota // WriteHeader(code)
	modeWriteHeaderBody         // WriteHeader(code), then a body
	modeBodyOnly                // a body: 200
	modeNothing                 // nothing: 200
	modePanic                   // panic before writing: 500
	modeInformational           // 103, then WriteHeader(code)
	modePanicAfterHeader        // WriteHeader(code), then panic
	modes
)

func FuzzCardinality(f *testing.F) {
	for _, s := range []struct {
		method, path, host string
		code               int
		mode               uint8
	}{
		{"GET", "/users/1", "", 200, modeBodyOnly},
		{"GET", "/users/2/../3", "example.com", 404, modeWriteHeader},
		{"POST", "/orders/", "", 201, modeWriteHeaderBody},
		{"BREW", "/items/x", "", 418, modeWriteHeader},
		{"get", "/", "", 0, modeNothing},
		{"PROPFIND", "/files/a/b/c", "", 207, modeWriteHeaderBody},
		{"GET", "/x/1", "api.example.com", 999, modeWriteHeader},
		{"GET", "/x/1", "api.example.com:8080", 1000, modeWriteHeader},
		{"DELETE", "/static/../../etc/passwd", "", -1, modeWriteHeader},
		{"CONNECT", "/static", "", 307, modeNothing},
		{"GET", "//users/1", "", 200, modePanic},
		{"OPTIONS", "*", "", 103, modeInformational},
		{"GET", "/metrics", "", 500, modeWriteHeader},
		{"HEAD", "/users/%2e%2e", "", 99, modePanicAfterHeader},
		{"TRACE", "", "", 101, modeWriteHeader},
		{"\x00\xff", "/\x00", "\xff", 12345678, modeWriteHeaderBody},
	} {
		f.Add(s.method, s.path, s.host, s.code, s.mode)
	}

	known := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PROPFIND"}
	routes := []string{httpmetrics.Unmatched}
	for _, r := range cardinalityRoutes {
		routes = append(routes, r)
	}

	reg := prom.NewRegistry()
	mw, err := httpmetrics.New(httpmetrics.WithRegistry(reg), httpmetrics.WithMethods("PROPFIND"), httpmetrics.WithSizes())
	if err != nil {
		f.Fatal(err)
	}
	grouped := prom.NewRegistry()
	gmw, err := httpmetrics.New(httpmetrics.WithRegistry(grouped), httpmetrics.WithMethods("PROPFIND"), httpmetrics.WithGroupedStatusCodes())
	if err != nil {
		f.Fatal(err)
	}

	// The status codes that reached the ResponseWriter, from the handlers
	// or the mux (404, 405, redirects), and that it accepted (net/http
	// refuses codes outside 100-999 with a panic), plus 200 and 500, which
	// the middleware records for handlers that send none.
	sent := map[string]bool{"200": true, "500": true}
	var code int
	var mode uint8
	mux := http.NewServeMux()
	for pattern := range cardinalityRoutes {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			switch mode % modes {
			case modeWriteHeader, modeWriteHeaderBody, modePanicAfterHeader:
				w.WriteHeader(code) // panics on a code net/http refuses
				if mode%modes == modeWriteHeaderBody {
					w.Write([]byte("body"))
				}
				if mode%modes == modePanicAfterHeader {
					panic("after the header")
				}
			case modeBodyOnly:
				w.Write([]byte("body"))
			case modePanic:
				panic("handler bug")
			case modeInformational:
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(code)
			}
		})
	}
	h, gh := mw.Wrap(mux), gmw.Wrap(mux)

	// Each call checks the label sets that the previous one did not see:
	// series are only added here, and All yields them in creation order,
	// so those are the ones past the previous call's count. Every 256th
	// call, and the first after a failed one, checks them all. The previous
	// call's snapshot is this one's before.
	var prev map[string]*familySeries
	prevGrouped, calls := 0, 0
	f.Fuzz(func(t *testing.T, method, path, host string, c int, m uint8) {
		code, mode = c, m
		before := prev
		prev = nil // until this call passes
		calls++
		full := before == nil || calls%256 == 0
		if full {
			before, prevGrouped = snapshotFamilies(t, reg), 0
		}
		seen := func(fam *familySeries) int {
			if full {
				return 0
			}
			return len(before[fam.name].labels)
		}
		for _, handler := range []http.Handler{h, gh} {
			r := &http.Request{Method: method, URL: &url.URL{Path: path}, Host: host, Header: http.Header{}, RequestURI: path, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
			func() {
				defer func() { recover() }() // the handler's panics, which a server would catch
				handler.ServeHTTP(codeWriter{httptest.NewRecorder(), sent}, r)
			}()
		}
		after := snapshotFamilies(t, reg)

		// Every label value comes from its bounded set.
		nRoutes, nMethods := len(routes), len(known)+1
		for _, fam := range []*familySeries{after[httpmetrics.RequestsName], after[httpmetrics.PanicsName], after[httpmetrics.DurationName],
			after[httpmetrics.RequestSizeName], after[httpmetrics.ResponseSizeName], after[httpmetrics.ResponsesName]} {
			for _, l := range fam.labels[seen(fam):] {
				if l["method"] != httpmetrics.OtherMethod && !slices.Contains(known, l["method"]) {
					t.Fatalf("%q %q (host %q): %s has the method label %q", method, path, host, fam.name, l["method"])
				}
				if !slices.Contains(routes, l["route"]) {
					t.Fatalf("%q %q (host %q): %s has the route label %q", method, path, host, fam.name, l["route"])
				}
				if fam.name == httpmetrics.ResponsesName && !sent[l["code"]] && l["code"] != httpmetrics.OtherCode {
					t.Fatalf("%q %q code %d mode %d: %s has the code label %q, which no handler sent", method, path, c, m%modes, fam.name, l["code"])
				}
			}
			bound := nRoutes * nMethods
			if fam.name == httpmetrics.ResponsesName {
				bound *= len(sent) + 1 // + OtherCode
			}
			if len(fam.labels) > bound {
				t.Fatalf("%s has %d series, over the bound of %d (%d routes x %d methods, x %d codes for responses)", fam.name, len(fam.labels), bound, nRoutes, nMethods, len(sent))
			}
		}
		groupedSets := labelSets(grouped, httpmetrics.ResponsesName)
		for _, l := range groupedSets[min(prevGrouped, len(groupedSets)):] {
			if class := l["code"]; class != httpmetrics.OtherCode && (len(class) != 3 || class[0] < '1' || class[0] > '9' || class[1:] != "xx") {
				t.Fatalf("%q %q code %d: grouped code label %q", method, path, c, class)
			}
		}
		if n := len(groupedSets); n > nRoutes*nMethods*10 {
			t.Fatalf("grouped responses: %d series, over the bound of %d", n, nRoutes*nMethods*10)
		}

		// The request is counted once (unless its path is excluded), in
		// requests and in responses; nothing is in flight any more.
		want := 1.0
		if path == "/metrics" {
			want = 0
		}
		for _, name := range []string{httpmetrics.RequestsName, httpmetrics.ResponsesName} {
			if d := after[name].total - before[name].total; d != want {
				t.Fatalf("%q %q code %d mode %d: %s went up by %v, want %v", method, path, c, m%modes, name, d, want)
			}
		}
		if v := after[httpmetrics.InFlightName].total; v != 0 {
			t.Fatalf("%q %q: %v requests in flight after the request", method, path, v)
		}
		prev, prevGrouped = after, len(groupedSets)
	})
}

// familySeries is one family's series: their label sets and the sum of
// their values (counts for histograms).
type familySeries struct {
	name   string
	labels []prom.Labels
	total  float64
}

func snapshotFamilies(t *testing.T, reg *prom.Registry) map[string]*familySeries {
	t.Helper()
	out := map[string]*familySeries{}
	for c := range reg.All() {
		var fs *familySeries
		switch m := c.(type) {
		case *prom.Counter:
			fs = &familySeries{name: m.Name()}
			for l, v := range m.All() {
				fs.labels = append(fs.labels, l)
				fs.total += v
			}
		case *prom.Gauge:
			fs = &familySeries{name: m.Name()}
			for l, v := range m.All() {
				fs.labels = append(fs.labels, l)
				fs.total += v
			}
		case *prom.Histogram:
			fs = &familySeries{name: m.Name()}
			for l, v := range m.All() {
				fs.labels = append(fs.labels, l)
				fs.total += float64(v.Count)
			}
		default:
			t.Fatalf("unexpected collector %T", c)
		}
		out[fs.name] = fs
	}
	for _, name := range []string{httpmetrics.RequestsName, httpmetrics.ResponsesName, httpmetrics.PanicsName, httpmetrics.DurationName,
		httpmetrics.InFlightName, httpmetrics.RequestSizeName, httpmetrics.ResponseSizeName} {
		if out[name] == nil {
			t.Fatalf("%s is not registered", name)
		}
	}
	return out
}

func labelSets(reg *prom.Registry, name string) []prom.Labels {
	c, _ := reg.Get(name)
	var out []prom.Labels
	for l := range c.(*prom.Counter).All() {
		out = append(out, l)
	}
	return out
}

// codeWriter notes the status codes that its ResponseRecorder accepted:
// the recorder refuses the codes net/http refuses, with the same panic.
type codeWriter struct {
	*httptest.ResponseRecorder
	sent map[string]bool
}

func (w codeWriter) WriteHeader(code int) {
	w.ResponseRecorder.WriteHeader(code)
	w.sent[strconv.Itoa(code)] = true
}
