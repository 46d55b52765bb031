package prom

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/promgo/prom/internal/expo"
)

// MaxExemplarRunes is the most characters an exemplar's label names and
// values may hold together, per OpenMetrics.
const MaxExemplarRunes = 128

// newExemplar validates an exemplar's labels and stamps it with the current
// time.
func newExemplar(metric string, l Labels, v float64) (*expo.Exemplar, error) {
	names := make([]string, 0, len(l))
	runes, nameLen := 0, 0
	for n, val := range l {
		if err := CheckLabelName(n); err != nil {
			return nil, fmt.Errorf("%w (an exemplar label of metric %q)", err, metric)
		}
		names = append(names, n)
		nameLen += len(n)
		runes += utf8.RuneCountInString(n) + utf8.RuneCountInString(val)
	}
	if runes > MaxExemplarRunes {
		return nil, fmt.Errorf("prom: %w: exemplar labels of metric %q hold %d characters; OpenMetrics allows %d", ErrInvalidLabels, metric, runes, MaxExemplarRunes)
	}
	slices.Sort(names)
	values := make([]string, len(names))
	for i, n := range names {
		values[i] = expo.ValidUTF8(l[n])
	}
	// The exemplar keeps its names, which the caller's map holds: copy
	// them, in one string, so that it keeps none of the caller's strings
	// alive and sees none change (one made with unsafe from a reused
	// []byte, say). Values are copied into the labels' Text.
	var sb strings.Builder
	sb.Grow(nameLen)
	for _, n := range names {
		sb.WriteString(n)
	}
	all := sb.String()
	for i, n := range names {
		names[i], all = all[:len(n)], all[len(n):]
	}
	return &expo.Exemplar{
		Labels:    expo.MakeLabels(&names, values),
		Value:     v,
		Timestamp: time.Now().UnixNano(),
	}, nil
}
