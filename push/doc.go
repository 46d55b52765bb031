// Package push sends a registry's metrics to a Prometheus Pushgateway, for
// batch jobs that end before Prometheus could scrape them. It is prom's
// version of aioprometheus's Pusher.
//
// A batch job records what it did and pushes it as it ends:
//
//	reg := prom.NewRegistry()
//	duration := prom.Must(prom.NewGauge("backup_duration_seconds",
//		"Duration of the last backup.", prom.WithRegistry(reg)))
//	start := time.Now()
//	// ... the job's work ...
//	duration.Set(time.Since(start).Seconds())
//
//	p, err := push.New("http://pushgateway:9091", "backup", push.WithRegistry(reg))
//	if err != nil {
//		log.Fatal(err) // a bad URL or job name
//	}
//	if err := p.Replace(ctx); err != nil {
//		log.Fatal(err)
//	}
//
// # Groups
//
// The Pushgateway keeps metrics in groups, each named by a grouping key:
// the job label, given to [New], and any further labels given with
// [WithGrouping], such as an instance. Every pushed metric gets the group's
// labels, so a metric must not carry job or a grouping label itself;
// [Pusher.Add] and [Pusher.Replace] refuse it with [ErrLabelConflict]
// rather than let the gateway overwrite the label.
//
// A Pusher builds the group's URL path as the Pushgateway documents it:
// /metrics/job/<job>/<label>/<value>..., labels in name order, values
// percent-encoded (a space is %20), and a value holding a / or an empty
// one in the @base64 form, so that any UTF-8 value reaches the gateway as
// it is. A path in the gateway URL is kept as a prefix, for a gateway
// behind a reverse proxy. [WithPath] sends to a fixed path instead, with
// no job or grouping key in it, for receivers that take pushes at one
// path, such as VictoriaMetrics' /api/v1/import/prometheus (with
// [WithFormat](prom.FormatText): it reads the text format).
//
// # Add, Replace, Delete
//
// [Pusher.Replace] (PUT) replaces the whole group with the registry's
// metrics. [Pusher.Add] (POST) replaces only the metrics with the names
// pushed and leaves the group's others, so that a failed run can push its
// duration without erasing the time of the last success pushed by an
// earlier one. [Pusher.Delete] removes the group. The body is protobuf, or
// text with [WithFormat]; [WithGzip] compresses it.
//
// # Errors
//
// Every method takes a context, which bounds the whole request. A network
// failure is returned as net/http reports it (a *url.Error, with
// context.DeadlineExceeded in its chain when the context's deadline
// passed). An answer other than 2xx is a [*StatusError] holding the status
// code and the gateway's explanation, such as its refusal of a metric whose
// type differs from that of the same name in another group. Nothing is
// pushed when the registry cannot be collected completely: a partial
// Replace would drop the metrics missing from it.
//
// # Long-running jobs
//
// [Pusher.Run] pushes at once and then at every interval until its context
// ends, then pushes a last time or deletes the group ([RunOptions]). Failed
// pushes go to a callback and do not stop it. It blocks in the caller's
// goroutine and starts none of its own.
//
// # Connections
//
// Requests go through http.DefaultClient unless [WithClient] gives another,
// for TLS with a private CA, client certificates or a proxy;
// [WithBasicAuth] and [WithHeader] add credentials. A Pusher is safe for
// concurrent use.
package push
