package prom

import (
	"strconv"
	"strings"
)

// NegotiateFormat chooses the exposition format for an HTTP Accept header as
// Prometheus and other scrapers send it: several media ranges, parameters in
// any order, q-values and wildcards. The acceptable range with the highest
// q-value wins, the earliest on a tie. Protobuf needs its proto and encoding
// parameters; OpenMetrics is taken in versions 1.0.0 and 0.0.1. Wildcards
// (text/*, */*) stand for the text format, and only where no more specific
// range rates it (text/plain;q=0.1,*/* rates text at 0.1, as RFC 9110
// says); protobuf and OpenMetrics must be named. An absent, malformed or
// unmatched header, or one that refuses every format, means [FormatText],
// never an error.
func NegotiateFormat(accept string) Format { return negotiate(accept, true) }

// negotiate is NegotiateFormat, leaving OpenMetrics ranges out unless
// openMetrics.
func negotiate(accept string, openMetrics bool) Format {
	const numFormats = int(FormatProtobuf) + 1
	// For each format, the range that rates it: the most specific one (3
	// for a full media type with a version, 2 without, 1 for text/*, 0 for
	// */*), the highest rated of equally specific ones, the first on a tie.
	// specific is -1 where none matched.
	var rated [numFormats]struct {
		specific, pos int
		q             float64
	}
	for i := range rated {
		rated[i].specific = -1
	}
	for pos := 0; len(accept) > 0; pos++ {
		var part string
		part, accept, _ = strings.Cut(accept, ",")
		f, specific, q, ok := parseMediaRange(part)
		if f == FormatOpenMetrics && !openMetrics {
			continue
		}
		if r := &rated[f]; ok && (specific > r.specific || specific == r.specific && q > r.q) {
			r.specific, r.pos, r.q = specific, pos, q
		}
	}
	best, bestQ, bestPos := FormatText, 0.0, 0
	for f, r := range rated {
		if r.specific >= 0 && (r.q > bestQ || r.q == bestQ && r.q > 0 && r.pos < bestPos) {
			best, bestQ, bestPos = Format(f), r.q, r.pos
		}
	}
	return best
}

// parseMediaRange reads one media range and says which format it asks for,
// how specifically (3 for a full media type with a version parameter, 2
// without, 1 for text/*, 0 for */*) and with which q-value.
func parseMediaRange(s string) (f Format, specific int, q float64, ok bool) {
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
				return 0, 0, 0, false
			}
		case "proto":
			proto = v
		case "encoding":
			encoding = v
		case "version":
			version = v
		}
	}
	full := 2
	if version != "" {
		full = 3
	}
	switch mediaType {
	case "application/vnd.google.protobuf":
		if proto != "io.prometheus.client.MetricFamily" || encoding != "delimited" {
			return 0, 0, 0, false
		}
		return FormatProtobuf, full, q, true
	case "application/openmetrics-text":
		if version != "" && version != "1.0.0" && version != "0.0.1" {
			return 0, 0, 0, false
		}
		return FormatOpenMetrics, full, q, true
	case "text/plain":
		return FormatText, full, q, true
	case "text/*":
		return FormatText, 1, q, true
	case "*/*":
		return FormatText, 0, q, true
	}
	return 0, 0, 0, false
}
