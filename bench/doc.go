// Package bench holds side-by-side benchmarks of prom,
// prometheus/client_golang and VictoriaMetrics/metrics, and tests that
// cross-check prom's expositions (text 0.0.4, OpenMetrics 1.0 and delimited
// protobuf, through Append and Handler) against the reference decoders and
// against client_golang, plus a fuzz target (FuzzFormatsAgree) that requires
// the three formats to agree.
//
// Every Benchmark<Op> has one sub-benchmark per library ("prom",
// "clientgolang", "vm") or per library variant ("<lib>_<variant>"), all
// running the same workload. State is built before b.ResetTimer.
//
// Run the comparison with
//
//	go test -run='^$' -bench=. -count=6 -cpu=1,2 ./... > /tmp/bench.txt
//	./ratio.sh /tmp/bench.txt
//
// The module is separate from github.com/promgo/prom so that the core module
// never depends on its peers.
package bench
