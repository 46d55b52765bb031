package prom_test

import (
	"os"
	"time"

	"github.com/promgo/prom"
)

// Series for label sets that come and go (per session, per job) can expire
// once nothing asks for them, so memory holds only the live ones.
func ExampleWithIdleExpiry() {
	reg := prom.NewRegistry()
	sessions := prom.Must(prom.NewGauge("session_bytes", "Bytes buffered per session.",
		prom.WithLabelNames("session"), prom.WithIdleExpiry(50*time.Millisecond), prom.WithRegistry(reg)))

	sessions.WithValues("a").Set(10)
	time.Sleep(80 * time.Millisecond) // session a goes idle for longer than 1.25 times the expiry
	sessions.WithValues("b").Set(20)

	body, _, _ := prom.Render(reg, "")
	os.Stdout.Write(body)
	// Output:
	// # HELP prom_expired_series_total Series removed after no lookup asked for them for longer than the metric's idle expiry (WithIdleExpiry).
	// # TYPE prom_expired_series_total counter
	// prom_expired_series_total{metric="session_bytes"} 1
	// # HELP session_bytes Bytes buffered per session.
	// # TYPE session_bytes gauge
	// session_bytes{session="b"} 20
}
