package prom

import (
	"strconv"
	"strings"
)

// NegotiateFormat chooses the exposition format for an HTTP Accept header as
// Prometheus and other scrapers send it: several media ranges, parameters in
// any order, q-values and wildcards. The acceptable range with the highest
// q-value wins, the earliest on a tie. Protobuf needs its proto and encoding
// parameters; OpenMetrics is taken in versions 1.0.0 and 0.0.1. An absent,
// malformed or unmatched header means [FormatText], never an error.
func NegotiateFormat(accept string) Format {
	best, bestQ := FormatText, 0.0
	for len(accept) > 0 {
		var part string
		part, accept, _ = strings.Cut(accept, ",")
		f, q, ok := parseMediaRange(part)
		if ok && q > bestQ {
			best, bestQ = f, q
		}
	}
	return best
}

// parseMediaRange reads one media range and says which format it asks for
// and with which q-value.
func parseMediaRange(s string) (f Format, q float64, ok bool) {
	mediaType, params, _ := strings.Cut(s, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	q = 1
	var proto, encoding, version string
	for len(params) > 0 {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, found := strings.Cut(p, "=")
		if !found {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch k {
		case "q":
			var err error
			q, err = strconv.ParseFloat(v, 64)
			if err != nil || !(q >= 0 && q <= 1) {
				return 0, 0, false
			}
		case "proto":
			proto = v
		case "encoding":
			encoding = v
		case "version":
			version = v
		}
	}
	switch mediaType {
	case "application/vnd.google.protobuf":
		if proto != "io.prometheus.client.MetricFamily" || encoding != "delimited" {
			return 0, 0, false
		}
		return FormatProtobuf, q, true
	case "application/openmetrics-text":
		if version != "" && version != "1.0.0" && version != "0.0.1" {
			return 0, 0, false
		}
		return FormatOpenMetrics, q, true
	case "text/plain", "text/*", "*/*":
		return FormatText, q, true
	}
	return 0, 0, false
}
