package httpmetrics_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

// FuzzLabels serves requests with any method, path and host through the
// middleware around a ServeMux, and checks that every label value comes
// from the bounded sets: the known methods or other, the registered
// routes or unmatched, and three-digit codes.
func FuzzLabels(f *testing.F) {
	for _, seed := range []struct{ method, path, host string }{
		{"GET", "/users/1", "example.com"},
		{"FOO", "/items/x", ""},
		{"CONNECT", "/tree/abc", "x"},
		{"GET", "//users/../users/2", "example.com:8080"},
		{"get", "/", ""},
		{"PROPFIND", "/files/a/b/c", "h"},
		{"DELETE", "/tree/a/", "api.example.com"},
		{"GET", "/%2e%2e/etc", ""},
	} {
		f.Add(seed.method, seed.path, seed.host)
	}
	reg := prom.NewRegistry()
	mw, err := httpmetrics.New(httpmetrics.WithRegistry(reg), httpmetrics.WithMethods("PROPFIND"))
	if err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	routes := []string{"/users/{user_id}", "/{$}", "/items/{id}", "/tree/{x}/", "/files/{path...}", "api.example.com/tree/{x}/", httpmetrics.Unmatched}
	for _, r := range routes[:len(routes)-1] {
		mux.HandleFunc(r, func(w http.ResponseWriter, r *http.Request) {})
	}
	mux.HandleFunc("POST /users/{user_id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) })
	h := mw.Wrap(mux)
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PROPFIND", httpmetrics.OtherMethod}

	f.Fuzz(func(t *testing.T, method, path, host string) {
		r := &http.Request{Method: method, URL: &url.URL{Path: path}, Host: host, Header: http.Header{}, RequestURI: path}
		h.ServeHTTP(&discardWriter{h: http.Header{}}, r)
		c, _ := reg.Get(httpmetrics.ResponsesName)
		for labels := range c.(*prom.Counter).All() {
			if !slices.Contains(methods, labels["method"]) {
				t.Fatalf("%q %q: method label %q", method, path, labels["method"])
			}
			if !slices.Contains(routes, labels["route"]) {
				t.Fatalf("%q %q (host %q): route label %q", method, path, host, labels["route"])
			}
			if len(labels["code"]) != 3 {
				t.Fatalf("%q %q: code label %q", method, path, labels["code"])
			}
		}
	})
}
