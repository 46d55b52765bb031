package prom

import (
	"strconv"
	"strings"
)

// NegotiateFormat chooses the exposition format for an HTTP Accept header as
// Prometheus and other scrapers send it: several media ranges, parameters in
// any order, q-values and wildcards. Each format is rated by the most
// specific range that names it, as RFC 9110 says: one naming the version
// prom writes (text 0.0.4, OpenMetrics 1.0.0), then one naming no version,
// then one naming another version that prom answers with its own
// (OpenMetrics 0.0.1, other text versions), then text/* and */*, which
// stand for the text format only; of equally specific ranges the highest
// rated counts. The format rated highest wins; on a tie, the one that a
// range of that q-value (a wildcard included) names first. Protobuf needs its proto and encoding parameters; other
// OpenMetrics versions are not served. An absent, malformed or unmatched
// header, or one that refuses every format, means [FormatText], never an
// error.
func NegotiateFormat(accept string) Format { return negotiate(accept, true) }

// negotiate is NegotiateFormat, leaving OpenMetrics ranges out unless
// openMetrics.
func negotiate(accept string, openMetrics bool) Format {
	const numFormats = int(FormatProtobuf) + 1
	// For each format, the rating of its most specific ranges (the highest
	// of them), and the position of the first range of that rating that
	// names it; specific is -1 where none matched.
	var rated [numFormats]struct {
		specific, pos int
		q             float64
	}
	for i := range rated {
		rated[i].specific, rated[i].pos = -1, -1
	}
	eachRange(accept, openMetrics, func(_ int, f Format, specific int, q float64) {
		if r := &rated[f]; specific > r.specific || specific == r.specific && q > r.q {
			r.specific, r.q = specific, q
		}
	})
	eachRange(accept, openMetrics, func(pos int, f Format, _ int, q float64) {
		if r := &rated[f]; r.pos < 0 && q == r.q {
			r.pos = pos
		}
	})
	best, bestQ, bestPos := FormatText, 0.0, 0
	for f, r := range rated {
		if r.specific >= 0 && (r.q > bestQ || r.q == bestQ && r.q > 0 && r.pos < bestPos) {
			best, bestQ, bestPos = Format(f), r.q, r.pos
		}
	}
	return best
}

// eachRange calls fn with each acceptable media range of accept that names
// a format: its position, the format, how specifically it names it and
// its q-value.
func eachRange(accept string, openMetrics bool, fn func(pos int, f Format, specific int, q float64)) {
	for pos := 0; len(accept) > 0; pos++ {
		var part string
		part, accept, _ = strings.Cut(accept, ",")
		f, specific, q, ok := parseMediaRange(part)
		if ok && (f != FormatOpenMetrics || openMetrics) {
			fn(pos, f, specific, q)
		}
	}
}

// How specifically a media range names a format. A range with a version
// prom does not write (OpenMetrics 0.0.1, text 1.0.0) does not match what
// prom serves, as RFC 9110 reads it; prom answers it with its own version,
// but below the media type without a version, so that such a range does
// not overrule that one's rating (its q=0 above all).
const (
	anyType       = iota // */*
	anyText              // text/*
	otherVersion         // the media type with a version prom answers with its own
	fullType             // the media type without a version
	servedVersion        // the media type with the version prom writes
)

// parseMediaRange reads one media range and says which format it asks for,
// how specifically and with which q-value.
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
	switch mediaType {
	case "application/vnd.google.protobuf":
		if proto != "io.prometheus.client.MetricFamily" || encoding != "delimited" {
			return 0, 0, 0, false
		}
		return FormatProtobuf, fullType, q, true
	case "application/openmetrics-text":
		switch version {
		case "1.0.0":
			return FormatOpenMetrics, servedVersion, q, true
		case "":
			return FormatOpenMetrics, fullType, q, true
		case "0.0.1":
			return FormatOpenMetrics, otherVersion, q, true
		}
		return 0, 0, 0, false
	case "text/plain":
		switch version {
		case "0.0.4":
			return FormatText, servedVersion, q, true
		case "":
			return FormatText, fullType, q, true
		}
		return FormatText, otherVersion, q, true
	case "text/*":
		return FormatText, anyText, q, true
	case "*/*":
		return FormatText, anyType, q, true
	}
	return 0, 0, 0, false
}
