package push

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/promgo/prom"
)

// base64Suffix marks a label name whose value follows base64-encoded
// (RFC 4648's URL and filename safe alphabet), as the Pushgateway reads it.
const base64Suffix = "@base64"

// appendSegment appends "/name/value" to b, escaped as the Pushgateway
// reads its URL path. A value the path cannot carry as it is goes in the
// @base64 form: one that holds a /, which no percent-encoding protects from
// being read as a separator; the empty value, whose // or trailing / the
// gateway's router would clean away (the gateway wants "=" for it); and
// "." and "..", which the router resolves as path steps (it answers 301).
// Any other value is percent-encoded as a path segment (url.PathEscape: a
// space is %20, never +), which keeps the URL readable.
func appendSegment(b []byte, name, value string) []byte {
	b = append(b, '/')
	b = append(b, name...)
	switch {
	case value == "":
		return append(b, base64Suffix+"/="...)
	case value == "." || value == ".." || strings.Contains(value, "/"):
		b = append(b, base64Suffix+"/"...)
		return base64.URLEncoding.AppendEncode(b, []byte(value))
	default:
		b = append(b, '/')
		return append(b, url.PathEscape(value)...)
	}
}

// groupPath returns the escaped path of a group, below the gateway's path
// prefix: /metrics/job/<job> and one /<name>/<value> pair per grouping
// label, in name order. It encodes any bytes; New has validated them.
func groupPath(job string, names []string, grouping prom.Labels) string {
	b := make([]byte, 0, 64)
	b = append(b, "/metrics"...)
	b = appendSegment(b, "job", job)
	for _, name := range names {
		b = appendSegment(b, name, grouping[name])
	}
	return string(b)
}

// sortedNames returns the label names of grouping in order.
func sortedNames(grouping prom.Labels) []string {
	return slices.Sorted(maps.Keys(grouping))
}

// groupURL joins the gateway URL, whose path is kept as a prefix, and the
// path of the group of job and grouping, whose names are given sorted.
func groupURL(gateway *url.URL, job string, names []string, grouping prom.Labels) (*url.URL, error) {
	escaped := strings.TrimRight(gateway.EscapedPath(), "/") + groupPath(job, names, grouping)
	u := *gateway
	u.Fragment, u.RawFragment = "", ""
	var err error
	if u.Path, err = url.PathUnescape(escaped); err != nil {
		return nil, fmt.Errorf("push: gateway URL %q: %w", gateway.Redacted(), err)
	}
	u.RawPath = escaped
	return &u, nil
}

// checkJob validates a job name: the gateway refuses an empty one, and
// label values must be valid UTF-8.
func checkJob(job string) error {
	switch {
	case job == "":
		return fmt.Errorf("push: %w: the job name is empty", ErrInvalidGrouping)
	case !utf8.ValidString(job):
		return fmt.Errorf("push: %w: the job name %q is not valid UTF-8", ErrInvalidGrouping, job)
	}
	return nil
}

// checkGroupingLabel validates one grouping label as the Pushgateway
// does: a label name of the classic form ([a-zA-Z_][a-zA-Z0-9_]*, not
// beginning with __), not job (New's job argument is that label), and a
// value of valid UTF-8 (the gateway stores an invalid one, and then every
// scrape of it fails).
func checkGroupingLabel(name, value string) error {
	switch {
	case name == "job":
		return fmt.Errorf("push: %w: the grouping key cannot hold the label job: the job name is New's second argument", ErrInvalidGrouping)
	case prom.CheckLabelName(name) != nil:
		return fmt.Errorf("push: %w: grouping label: %w", ErrInvalidGrouping, prom.CheckLabelName(name))
	case !utf8.ValidString(value):
		return fmt.Errorf("push: %w: the value %q of grouping label %q is not valid UTF-8", ErrInvalidGrouping, value, name)
	}
	return nil
}
