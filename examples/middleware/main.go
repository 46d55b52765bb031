// Command middleware is a web service instrumented with httpmetrics, as
// aioprometheus's FastAPI middleware example is: a ServeMux with / and
// /users/{user_id}, the default request metrics recorded by the
// middleware, one metric of the application's own, and /metrics serving
// them all.
//
//	$ go run ./examples/middleware
//	Serving on: http://localhost:8000/
//	Metrics on: http://localhost:8000/metrics
//
//	$ curl localhost:8000/users/1; curl localhost:8000/users/2
//	$ curl -s localhost:8000/metrics | grep users
//	http_server_requests_total{method="GET",route="/users/{user_id}"} 2
//	...
//
// The flag -addr changes the listen address; Ctrl-C (SIGINT) or SIGTERM
// stops the server cleanly, letting requests in progress finish.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

func main() {
	addr := flag.String("addr", ":8000", "`address` to listen on (host:port; port 0 picks a free one)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// app is the example's application: its routes and its own metric.
type app struct {
	// userLookups counts user look-ups: the series events_total{kind=
	// "user_lookup"}, bound once, so that an update is one atomic add.
	// (aioprometheus's example labels its counter with the raw path,
	// which makes a series per user.)
	userLookups *prom.CounterSeries
}

// newHandler builds the application's mux, wrapped in the middleware, with
// /metrics serving reg. The middleware's and the application's metrics
// all go into reg.
func newHandler(reg *prom.Registry) (http.Handler, error) {
	mw, err := httpmetrics.New(httpmetrics.WithRegistry(reg))
	if err != nil {
		return nil, err
	}
	events, err := prom.NewCounter("events_total", "Number of events.",
		prom.WithRegistry(reg), prom.WithLabelNames("kind"))
	if err != nil {
		return nil, err
	}
	a := &app{userLookups: events.WithValues("user_lookup")}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.root)
	mux.HandleFunc("GET /users/{user_id}", a.getUser)
	mux.Handle("GET /metrics", prom.Handler(reg))
	// The middleware wraps the mux itself, so that it sees the pattern the
	// mux matched; /metrics is excluded from recording by default.
	return mw.Wrap(mux), nil
}

func (a *app) root(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "ServeMux Middleware Example\n")
}

func (a *app) getUser(w http.ResponseWriter, r *http.Request) {
	a.userLookups.Inc()
	io.WriteString(w, r.PathValue("user_id")+"\n")
}

// run serves on addr until ctx is done. It prints the URLs to out once it
// listens, and returns nil after a clean shutdown.
func run(ctx context.Context, addr string, out io.Writer) error {
	reg := prom.NewRegistry()
	handler, err := newHandler(reg)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := baseURL(ln.Addr())
	fmt.Fprintf(out, "Serving on: %s/\nMetrics on: %s/metrics\n", base, base)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served: // the server failed on its own
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("stopping the server: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// baseURL returns the URL that clients reach a listener at. A wildcard
// address (":8000", "0.0.0.0:8000", "[::]:8000") is shown as localhost.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
