package promtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/promgo/prom"
)

// The metric types of the text format, as Family.Type holds them.
const (
	TypeCounter   = "counter"
	TypeGauge     = "gauge"
	TypeHistogram = "histogram"
	TypeSummary   = "summary"
	TypeUntyped   = "untyped"
)

// Family is one metric family of a text exposition: its metadata and its
// samples, in the order they came.
type Family struct {
	Name string // the family's name: a histogram's without _bucket, _sum, _count

	// Help is the HELP text, unescaped; HasHelp says whether there was a
	// HELP line at all (an empty one has HasHelp true and Help "").
	Help    string
	HasHelp bool

	// Type is one of the Type constants; a family without a TYPE line is
	// untyped, and HasType is false.
	Type    string
	HasType bool

	Samples []Sample // in the order of the text
}

// Sample is one sample line.
type Sample struct {
	// Name is the sample's name: for histograms and summaries, with the
	// suffix (_bucket, _sum, _count).
	Name string
	// Labels holds the sample's labels, le and quantile included; it is
	// never nil.
	Labels prom.Labels
	Value  float64 // NaN and ±Inf included

	// Timestamp is the optional timestamp, in milliseconds since the
	// Unix epoch; HasTimestamp says whether there was one.
	Timestamp    int64
	HasTimestamp bool
}

// ParseError reports text that is not valid in the text format 0.0.4.
type ParseError struct {
	Line int    // 1-based
	Msg  string // what is wrong
}

// Error formats the error as Prometheus' parser does: "text format parsing
// error in line N: ...".
func (e *ParseError) Error() string {
	return fmt.Sprintf("text format parsing error in line %d: %s", e.Line, e.Msg)
}

// Parse parses the Prometheus text exposition format 0.0.4, as prom renders
// it and scrapers read it, into its families in order of first appearance.
// It is strict where Prometheus' own parser is: names and label names must
// be valid, label values valid UTF-8 with only the \\, \" and \n escapes,
// HELP and TYPE at most once per family and TYPE before the family's
// samples, histogram buckets need an le label and summary quantiles a
// quantile label. Comments other than HELP and TYPE are ignored.
//
// Samples are assigned to families as Prometheus does: name_bucket,
// name_sum and name_count belong to the histogram name when a TYPE line
// declared it (name_sum, name_count and name itself to a summary); any
// other sample forms an untyped family of its own name, unless TYPE or HELP
// lines named it.
func Parse(text []byte) ([]*Family, error) {
	p := parser{byName: map[string]*Family{}}
	for line := range strings.SplitSeq(string(text), "\n") {
		p.line++
		if err := p.parseLine(line); err != nil {
			return nil, &ParseError{Line: p.line, Msg: err.Error()}
		}
	}
	return p.families, nil
}

type parser struct {
	line     int
	families []*Family
	byName   map[string]*Family
}

func (p *parser) family(name string) *Family {
	f := p.byName[name]
	if f == nil {
		f = &Family{Name: name, Type: TypeUntyped}
		p.byName[name] = f
		p.families = append(p.families, f)
	}
	return f
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func trimBlanks(s string) string { return strings.TrimLeft(s, " \t") }

// token splits s, with leading blanks removed, at the first blank.
func token(s string) (tok, rest string) {
	s = trimBlanks(s)
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

func (p *parser) parseLine(line string) error {
	s := trimBlanks(line)
	switch {
	case s == "":
		return nil
	case s[0] == '#':
		return p.parseComment(s[1:])
	}
	return p.parseSample(s)
}

func (p *parser) parseComment(s string) error {
	kw, rest := token(s)
	if kw != "HELP" && kw != "TYPE" {
		return nil // an ordinary comment
	}
	name, rest := token(rest)
	if name == "" {
		return fmt.Errorf("%s line without a metric name", kw)
	}
	if !validMetricName(name) {
		return fmt.Errorf("invalid metric name %q", name)
	}
	f := p.family(name)
	if kw == "HELP" {
		if f.HasHelp {
			return fmt.Errorf("second HELP line for metric name %q", name)
		}
		help, err := unescape(trimBlanks(rest), false)
		if err != nil {
			return fmt.Errorf("HELP of %q: %v", name, err)
		}
		f.Help, f.HasHelp = help, true
		return nil
	}
	typ, rest := token(rest)
	if trimBlanks(rest) != "" {
		return fmt.Errorf("unexpected text after the type of %q: %q", name, trimBlanks(rest))
	}
	if f.HasType || len(f.Samples) > 0 {
		return fmt.Errorf("second TYPE line for metric name %q, or TYPE reported after samples", name)
	}
	switch t := strings.ToLower(typ); t {
	case TypeCounter, TypeGauge, TypeHistogram, TypeSummary, TypeUntyped:
		f.Type, f.HasType = t, true
	default:
		return fmt.Errorf("unknown metric type %q", typ)
	}
	return nil
}

func (p *parser) parseSample(s string) error {
	i := 0
	for i < len(s) && isNameChar(s[i], i == 0, true) {
		i++
	}
	name, s := s[:i], s[i:]
	if name == "" || s != "" && !isBlank(s[0]) && s[0] != '{' {
		return fmt.Errorf("invalid metric name in %q", name+s)
	}
	s = trimBlanks(s)
	labels := prom.Labels{}
	if strings.HasPrefix(s, "{") {
		var err error
		if s, err = parseLabels(s[1:], labels); err != nil {
			return fmt.Errorf("metric %q: %v", name, err)
		}
	}
	valText, rest := token(s)
	if valText == "" {
		return fmt.Errorf("metric %q has no value", name)
	}
	v, err := parseFloat(valText)
	if err != nil {
		return fmt.Errorf("metric %q: invalid value %q", name, valText)
	}
	sample := Sample{Name: name, Labels: labels, Value: v}
	if tsText, rest := token(rest); tsText != "" {
		if trimBlanks(rest) != "" {
			return fmt.Errorf("metric %q: unexpected text after the timestamp: %q", name, trimBlanks(rest))
		}
		ts, err := strconv.ParseInt(tsText, 10, 64)
		if err != nil {
			return fmt.Errorf("metric %q: invalid timestamp %q", name, tsText)
		}
		sample.Timestamp, sample.HasTimestamp = ts, true
	}

	f, err := p.familyOf(name, labels)
	if err != nil {
		return err
	}
	f.Samples = append(f.Samples, sample)
	return nil
}

// familyOf returns the family a sample belongs to and checks the labels
// its type requires.
func (p *parser) familyOf(name string, labels prom.Labels) (*Family, error) {
	for _, suffix := range [...]string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		f := p.byName[base]
		if f == nil {
			break
		}
		switch {
		case f.Type == TypeHistogram:
			if suffix == "_bucket" {
				le, ok := labels["le"]
				if !ok {
					return nil, fmt.Errorf("histogram bucket %q without an le label", name)
				}
				if _, err := parseFloat(le); err != nil {
					return nil, fmt.Errorf("histogram bucket %q: invalid le %q", name, le)
				}
			}
			return f, nil
		case f.Type == TypeSummary && suffix != "_bucket":
			return f, nil
		}
		break
	}
	f := p.family(name)
	switch f.Type {
	case TypeHistogram:
		return nil, fmt.Errorf("histogram %q has a sample without a _bucket, _sum or _count suffix", name)
	case TypeSummary:
		q, ok := labels["quantile"]
		if !ok {
			return nil, fmt.Errorf("summary %q has a sample without a quantile label", name)
		}
		if _, err := parseFloat(q); err != nil {
			return nil, fmt.Errorf("summary %q: invalid quantile %q", name, q)
		}
	}
	return f, nil
}

// parseLabels parses the label pairs after "{" into labels and returns the
// text after the closing "}".
func parseLabels(s string, labels prom.Labels) (string, error) {
	for {
		s = trimBlanks(s)
		if strings.HasPrefix(s, "}") {
			return s[1:], nil
		}
		i := 0
		for i < len(s) && isNameChar(s[i], i == 0, false) {
			i++
		}
		name := s[:i]
		if name == "" {
			return "", fmt.Errorf("invalid label name in %q", s)
		}
		if name == "__name__" {
			return "", fmt.Errorf("label name %q is reserved", name)
		}
		s = trimBlanks(s[i:])
		if !strings.HasPrefix(s, "=") {
			return "", fmt.Errorf("expected '=' after label name %q", name)
		}
		s = trimBlanks(s[1:])
		if !strings.HasPrefix(s, `"`) {
			return "", fmt.Errorf("expected '\"' to start the value of label %q", name)
		}
		value, rest, err := quoted(s[1:])
		if err != nil {
			return "", fmt.Errorf("label %q: %v", name, err)
		}
		if _, dup := labels[name]; dup {
			return "", fmt.Errorf("duplicate label name %q", name)
		}
		labels[name] = value
		s = trimBlanks(rest)
		switch {
		case strings.HasPrefix(s, ","):
			s = s[1:]
		case strings.HasPrefix(s, "}"):
			return s[1:], nil
		default:
			return "", fmt.Errorf("expected ',' or '}' after the value of label %q", name)
		}
	}
}

// quoted reads a label value up to its closing quote and returns it
// unescaped, with the text after the quote.
func quoted(s string) (value, rest string, err error) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			v, err := unescape(s[:i], true)
			return v, s[i+1:], err
		}
	}
	return "", "", fmt.Errorf("unterminated label value")
}

// unescape resolves \\ and \n, and \" in label values; any other escape
// is an error, as is invalid UTF-8 in a label value.
func unescape(s string, label bool) (string, error) {
	if label && !utf8.ValidString(s) {
		return "", fmt.Errorf("invalid UTF-8 in %q", s)
	}
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", fmt.Errorf("escape at the end of %q", s)
		}
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case '"':
			if !label {
				return "", fmt.Errorf(`invalid escape sequence \" in help text`)
			}
			b.WriteByte('"')
		default:
			return "", fmt.Errorf(`invalid escape sequence \%c`, s[i])
		}
	}
	return b.String(), nil
}

// parseFloat reads a sample value as Prometheus does: Go's float syntax,
// NaN and ±Inf included, but not hexadecimal or underscores.
func parseFloat(s string) (float64, error) {
	if strings.ContainsAny(s, "pPxX_") {
		return 0, fmt.Errorf("unsupported character in float %q", s)
	}
	return strconv.ParseFloat(s, 64)
}

// isNameChar reports whether c may appear in a metric name (colons
// allowed) or a label name, first says whether c is the first character.
func isNameChar(c byte, first, colon bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' ||
		colon && c == ':' || !first && c >= '0' && c <= '9'
}

func validMetricName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i], i == 0, true) {
			return false
		}
	}
	return s != ""
}
