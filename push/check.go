package push

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/promgo/prom"
)

// checkLabels reports the first metric in body, an exposition in format f,
// that carries one of the reserved label names: job, or a name of the
// grouping key. The Pushgateway would silently overwrite such a label with
// the value from the push URL. The check reads the bytes about to be sent,
// so it sees every label, constant and custom collectors' included, and
// allocates nothing unless it finds one.
func checkLabels(body []byte, f prom.Format, reserved []string) error {
	if f == prom.FormatProtobuf {
		return checkProtobuf(body, reserved)
	}
	return checkText(body, reserved)
}

// conflict is the error for metric carrying the reserved label.
func conflict(metric, label string) error {
	if label == "job" {
		return fmt.Errorf("push: %w: metric %q has a job label; the Pushgateway sets job from the push URL (New's job argument) and would overwrite it", ErrLabelConflict, metric)
	}
	return fmt.Errorf("push: %w: metric %q has the label %q, which is in the grouping key; the Pushgateway would overwrite it with the grouping value", ErrLabelConflict, metric, label)
}

// isReserved reports whether name is one of reserved, without allocating.
func isReserved(name []byte, reserved []string) bool {
	for _, r := range reserved {
		if string(name) == r {
			return true
		}
	}
	return false
}

var errMalformed = errors.New("push: the rendered metrics could not be read back for the label check")

// Field numbers and wire types of io.prometheus.client's messages.
const (
	fieldFamilyName   = 1 // MetricFamily.name
	fieldFamilyMetric = 4 // MetricFamily.metric
	fieldMetricLabel  = 1 // Metric.label
	fieldLabelName    = 1 // LabelPair.name

	wireVarint = 0
	wireI64    = 1
	wireLen    = 2
	wireI32    = 5
)

// checkProtobuf walks varint-delimited MetricFamily messages.
func checkProtobuf(b []byte, reserved []string) error {
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return errMalformed
		}
		family := b[k : k+int(n)]
		b = b[k+int(n):]
		var name, label []byte
		err := fields(family, func(field int, v []byte) error {
			switch field {
			case fieldFamilyName:
				name = v
			case fieldFamilyMetric:
				return fields(v, func(field int, v []byte) error {
					if field != fieldMetricLabel || label != nil {
						return nil
					}
					return fields(v, func(field int, v []byte) error {
						if field == fieldLabelName && isReserved(v, reserved) {
							label = v
						}
						return nil
					})
				})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if label != nil {
			return conflict(string(name), string(label))
		}
	}
	return nil
}

// fields calls fn with each length-delimited field of the message m and
// skips the others.
func fields(m []byte, fn func(field int, v []byte) error) error {
	for len(m) > 0 {
		tag, k := binary.Uvarint(m)
		if k <= 0 {
			return errMalformed
		}
		m = m[k:]
		switch tag & 7 {
		case wireVarint:
			if _, k = binary.Uvarint(m); k <= 0 {
				return errMalformed
			}
			m = m[k:]
		case wireI64, wireI32:
			size := 8
			if tag&7 == wireI32 {
				size = 4
			}
			if len(m) < size {
				return errMalformed
			}
			m = m[size:]
		case wireLen:
			n, k := binary.Uvarint(m)
			if k <= 0 || n > uint64(len(m)-k) {
				return errMalformed
			}
			if err := fn(int(tag>>3), m[k:k+int(n)]); err != nil {
				return err
			}
			m = m[k+int(n):]
		default:
			return errMalformed
		}
	}
	return nil
}

// checkText reads the sample lines of the text format 0.0.4:
// name{label="value",...} value. The metric is named after the family of
// the last # TYPE line when the sample belongs to it (x_bucket is in x).
func checkText(b []byte, reserved []string) error {
	var family []byte
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		if typ, ok := bytes.CutPrefix(line, []byte("# TYPE ")); ok {
			family, _, _ = bytes.Cut(typ, []byte{' '})
			continue
		}
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		i := bytes.IndexAny(line, "{ ")
		if i < 0 || line[i] == ' ' {
			continue // no labels
		}
		name, rest := line[:i], line[i+1:]
		label, err := findLabel(rest, reserved)
		if err != nil {
			return err
		}
		if label != nil {
			if len(family) == 0 || !bytes.HasPrefix(name, family) {
				family = name
			}
			return conflict(string(family), string(label))
		}
	}
	return nil
}

// findLabel reads label="value" pairs up to the closing brace and returns
// the first reserved name.
func findLabel(s []byte, reserved []string) ([]byte, error) {
	for {
		if len(s) > 0 && s[0] == '}' {
			return nil, nil
		}
		eq := bytes.IndexByte(s, '=')
		if eq < 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			return nil, errMalformed
		}
		name := s[:eq]
		if isReserved(name, reserved) {
			return name, nil
		}
		// Skip the quoted value, whose \" and \\ are escaped.
		j := eq + 2
		for ; j < len(s) && s[j] != '"'; j++ {
			if s[j] == '\\' {
				j++
			}
		}
		if j >= len(s) {
			return nil, errMalformed
		}
		s = s[j+1:]
		if len(s) > 0 && s[0] == ',' {
			s = s[1:]
		}
	}
}
