// Package prom is a Prometheus client library: it brings what Python's
// aioprometheus offers to Go, with hot paths that neither lock nor allocate.
//
// A program creates metrics, updates them, and serves them:
//
//	var events = prom.Must(prom.NewCounter("events_total", "Number of events."))
//
//	func main() {
//		events.With(prom.Labels{"kind": "timer_expiry"}).Inc()
//		http.Handle("/metrics", prom.Handler(nil))
//		log.Fatal(http.ListenAndServe(":8000", nil))
//	}
//
// # Metric types
//
// [Counter] counts things that only go up; [Gauge] holds a value that goes
// up and down; [GaugeFunc] and [CounterFunc] read one from a function at
// scrape time (a counter has no Set: a total kept elsewhere is a
// CounterFunc);
// [Histogram] counts observations in buckets; [Summary] reports targeted
// quantiles (CKMS, with the rank error each [Objective] allows) over a
// sliding window. A metric is a family of series told apart by their
// labels. Each constructor validates its name, labels and options and
// registers the metric in [Default], or in the registry given with
// [WithRegistry]; [Must] turns the error into a panic for metrics created at
// start-up.
//
// # Labels
//
// As in aioprometheus, labels can be given per call as a [Labels] map:
// c.With(prom.Labels{"method": "GET"}).Inc(). The map's order does not
// matter, and nil or an empty map means the unlabelled series, which Inc,
// Add, Set and Observe on the metric itself update. With returns the
// series bound to the labels; keep it to update it in one atomic step.
// Declaring the names with [WithLabelNames] adds positional values
// (c.WithValues("GET", "200")) and rejects label maps with other names.
// [WithConstLabels] adds fixed labels to every series.
//
// Label values and help texts may be any string: the encoders escape them,
// and invalid UTF-8 is replaced, byte by byte, with U+FFFD (a help text's
// \r\n and lone \r become \n, which the text formats escape). As Prometheus reads a label
// with an empty value as no label, a metric without declared names leaves
// a label map's empty values out: {kind=""} is its unlabelled series and
// {a="1",b=""} its series {a="1"}. (A metric with declared names takes
// exactly those names, so it keeps an empty value of one and refuses any
// other name; its series all have the same names, so none collide.) Label
// names must match [a-zA-Z_][a-zA-Z0-9_]* and not begin with __; le is
// reserved on histograms, quantile on summaries, and [OverflowLabel] on the
// series of every metric. With cannot return an error, so
// labels that do not fit give a detached series whose updates are dropped,
// and the call is counted in the registry's own counter
// prom_rejected_updates_total (with the metric's name and the reason); Bind
// and BindValues return the error instead, and count nothing. Counter.Add drops and counts negative and NaN increments in
// the same way.
//
// Get reads a series' value back, All lists every series, Delete removes
// one, Reset removes them all.
//
// # Typed labels
//
// [NewCounterOf], [NewGaugeOf], [NewHistogramOf] and [NewSummaryOf] take
// the label set as a struct type of string fields, so that a wrong label
// count or order does not compile:
//
//	type requestLabels struct {
//		Method string `label:"method"`
//		Code   string `label:"code"`
//	}
//	var requests = prom.Must(prom.NewCounterOf[requestLabels]("http_requests_total", "Requests served."))
//
//	requests.With(requestLabels{Method: "GET", Code: "200"}).Inc()
//
// A field's label name is its label tag, or else its name in snake_case
// (StatusCode gives status_code). The struct is checked once, when the
// metric is made; a lookup reads the fields as positional values, as fast
// as WithValues and without allocating on a hit. The typed metric embeds
// the plain one, so the rest of the API is the same.
//
// A label value taken from requests (a path, a user agent) can create series
// without end. [WithMaxSeries] bounds a metric, and [Registry.SetMaxSeries]
// every metric of a registry: past the limit, new label sets share one
// overflow series labelled [OverflowLabel]="true", counted in
// prom_rejected_updates_total, so memory stays bounded and no update is lost
// silently. For label sets that come and go (per client, per job),
// [WithIdleExpiry] removes the series no lookup has asked for lately.
//
// # Registry
//
// A [Registry] holds [Collector]s: the metric types, and anything that
// implements the two-method interface to report values computed at scrape
// time through a [MetricWriter]. Register refuses a name that is taken with
// an [*AlreadyRegisteredError] (whose Existing field holds the first
// metric); Unregister, Get and Clear complete the set, and All iterates in
// name order. Nothing is registered in Default by prom itself.
//
// # Exposition
//
// Three formats are written straight from the metrics' state: the text
// format 0.0.4 ([FormatText]), OpenMetrics 1.0 ([FormatOpenMetrics]: counters
// as _total samples, units from [WithUnit], exemplars, # EOF) and the
// delimited protobuf format ([FormatProtobuf]). [NegotiateFormat] picks one
// from an Accept header as Prometheus sends it; no header, or one that asks
// for nothing prom writes, means text. The three carry the same samples,
// except that OpenMetrics leaves out the few it forbids (see
// [FormatOpenMetrics]). Exemplars are attached with
// [CounterSeries.AddWithExemplar] and [HistogramSeries.ObserveWithExemplar].
//
// [Render] returns a registry's metrics and their Content-Type, for any
// framework, as aioprometheus's render does; [Registry.Append] appends a
// chosen format to a buffer. Families come out in name order and series in
// creation order. A collector that fails or panics is reported (the
// series it wrote before failing are kept, its invalid ones dropped, and
// so is a family whose names another family produces too), a GaugeFunc or
// CounterFunc whose function panics (or gives a counter a negative value)
// is left out, and the rest of the scrape is served and stays
// well-formed.
//
// # Serving
//
// [Handler] serves a registry to any mux: it negotiates the format, answers
// GET and HEAD, compresses with gzip when asked, and takes options for the
// error mode, a limit on concurrent scrapes, a timeout that cancels
// collection, _created samples, and the text format where OpenMetrics
// would be chosen ([WithoutOpenMetrics], client_golang's default); it
// honours Prometheus' name[] filter.
// [Service] is aioprometheus's dedicated metrics server: set its address,
// path, registry, TLS and basic auth, call Start, read its URLs, and Stop
// it when done.
//
// # HTTP middleware
//
// Package [github.com/promgo/prom/httpmetrics] is aioprometheus's
// MetricsMiddleware: wrap a handler, and every request counts in
// http_server_requests_total, http_server_responses_total (by status code),
// http_server_panics_total and a duration histogram, per method and route
// template (ServeMux's pattern, /users/{user_id}; never the raw path, so
// unknown paths make one "unmatched" series), with paths such as /metrics
// left out. Adapters for chi, gin and echo live in modules of their own
// under contrib/.
//
//	mw := prom.Must(httpmetrics.New())
//	log.Fatal(http.ListenAndServe(":8000", mw.Wrap(mux)))
//
// # Pushing
//
// Package [github.com/promgo/prom/push] is aioprometheus's Pusher: it sends
// a registry to a Prometheus Pushgateway for batch jobs, with Add (POST,
// replaces the pushed metric names), Replace (PUT, replaces the group) and
// Delete, under a job name and a grouping key.
//
//	p, err := push.New("http://pushgateway:9091", "backup", push.WithRegistry(reg))
//	...
//	err = p.Replace(ctx)
//
// # Instrumentation
//
// [Time], [InProgress] and [CountError] are aioprometheus's timer,
// inprogress and count_exceptions decorators as defer one-liners:
//
//	func handle(ctx context.Context) (err error) {
//		defer prom.Time(latency.With(nil))()
//		defer prom.InProgress(inFlight.With(nil))()
//		defer prom.CountError(failures.With(nil), &err)()
//		...
//	}
//
// [TimeFunc], [InProgressFunc] and [CountErrors] (and their Context forms)
// wrap a func() error instead. Panics are timed and counted, then raised
// again. The defer forms allocate nothing. The collectors package adds Go
// runtime, process and build metrics under client_golang's names; the
// promtest package helps test instrumented code.
//
// # Performance considerations
//
// Label lookups hash the values with the runtime's string hash and probe a
// table that readers load through an atomic pointer, so a hit takes no lock
// and allocates nothing, whether the labels come as values or as a map
// literal built at the call site (up to eight labels). Counter increments
// by whole numbers are one atomic add; gauge sets one atomic store;
// histogram observations a short per-series lock (as in VictoriaMetrics;
// cheaper than the three atomic operations a lock-free snapshot needs), so a
// scrape reads each histogram as a consistent snapshot. The unlabelled series
// lives inside its metric, so Inc on an unlabelled Counter is one flag load
// and one atomic add. A series renders its
// label block once, when it is created, so a scrape appends bytes and
// formats numbers. Keep the series returned by With for the hottest paths.
package prom
