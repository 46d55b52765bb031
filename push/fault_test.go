package push

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestGatewayDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	p, err := New("http://"+addr, "batch", WithRegistry(testRegistry(t)))
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func(context.Context) error{"Add": p.Add, "Replace": p.Replace, "Delete": p.Delete} {
		err := call(context.Background())
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s: err = %v, want connection refused", name, err)
		}
		if err != nil && !strings.Contains(err.Error(), addr) {
			t.Errorf("%s: error %q does not name the gateway", name, err)
		}
	}
}

func TestStatusError(t *testing.T) {
	gw, srv := newFakeGateway(t)
	p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)))
	if err != nil {
		t.Fatal(err)
	}
	gw.answer(http.StatusInternalServerError, "  storage on fire\n")
	err = p.Replace(context.Background())
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want a *StatusError", err, err)
	}
	if se.StatusCode != 500 || se.Message != "storage on fire" || se.Method != "PUT" || se.URL != p.URL() {
		t.Errorf("StatusError = %+v", *se)
	}
	want := "push: PUT " + p.URL() + ": 500 Internal Server Error: storage on fire"
	if err.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", err, want)
	}

	// A long answer is cut; an empty one leaves the message out.
	gw.answer(http.StatusBadGateway, strings.Repeat("x", 3*maxMessage))
	if err := p.Delete(context.Background()); !errors.As(err, &se) || se.StatusCode != 502 ||
		len(se.Message) != maxMessage+len("...") || !strings.HasSuffix(se.Message, "x...") {
		t.Errorf("long answer: err = %.200v", err)
	}
	gw.answer(http.StatusUnauthorized, "")
	if err := p.Add(context.Background()); !errors.As(err, &se) || se.StatusCode != 401 || se.Message != "" ||
		!strings.HasSuffix(err.Error(), ": 401 Unauthorized") {
		t.Errorf("empty answer: err = %v", err)
	}
}

func TestGatewayHangs(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: unblock the handler
	p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)))
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func(context.Context) error{"Add": p.Add, "Replace": p.Replace, "Delete": p.Delete} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: err = %v, want context.DeadlineExceeded in the chain", name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s returned after %v", name, d)
		}
	}
}

func TestTLS(t *testing.T) {
	gw := &fakeGateway{status: http.StatusOK}
	srv := httptest.NewUnstartedServer(gw)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)

	// The default client does not trust the self-signed certificate.
	p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)))
	if err != nil {
		t.Fatal(err)
	}
	var unknown x509.UnknownAuthorityError
	if err := p.Replace(context.Background()); !errors.As(err, &unknown) {
		t.Errorf("without the CA: err = %v, want an x509.UnknownAuthorityError", err)
	}

	// A client that trusts it pushes.
	p, err = New(srv.URL, "batch", WithRegistry(testRegistry(t)), WithClient(srv.Client()), WithBasicAuth("u", "p"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Replace(context.Background()); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	if reqs := gw.requests(); len(reqs) != 1 || reqs[0].Method != http.MethodPut {
		t.Errorf("gateway saw %+v", reqs)
	}
}

// TestRedirect checks that a push turned into a GET by a 301 fails instead
// of passing for a success.
func TestRedirect(t *testing.T) {
	gw, target := newFakeGateway(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusMovedPermanently)
	}))
	t.Cleanup(srv.Close)
	p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)))
	if err != nil {
		t.Fatal(err)
	}
	err = p.Add(context.Background())
	if err == nil || !strings.Contains(err.Error(), "was redirected to GET") {
		t.Errorf("err = %v", err)
	}
	if reqs := gw.requests(); len(reqs) != 1 || reqs[0].Method != http.MethodGet {
		t.Errorf("target saw %+v", reqs)
	}
}
