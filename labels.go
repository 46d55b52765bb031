package prom

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/promgo/prom/internal/expo"
)

// Labels is a label set: label names to values. A nil or empty Labels is the
// unlabelled series. The order of a map does not matter: two maps with the
// same pairs address the same series. Any string is a legal label value; the
// encoders escape it, and invalid UTF-8 is replaced by U+FFFD. For a metric
// without declared names, a label with an empty value is no label, as in
// Prometheus: {kind=""} is the unlabelled series.
type Labels map[string]string

// maxStackLabels is how many labels a lookup handles without allocating.
const maxStackLabels = 8

// ErrInvalidName reports a metric or label name that breaks the naming rules.
var ErrInvalidName = errors.New("invalid name")

// ErrInvalidLabels reports a label set that does not fit its metric.
var ErrInvalidLabels = errors.New("invalid labels")

// validMetricName reports whether s matches [a-zA-Z_:][a-zA-Z0-9_:]*.
func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}

// validLabelName reports whether s matches [a-zA-Z_][a-zA-Z0-9_]*.
func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}

// CheckMetricName returns an error wrapping [ErrInvalidName] unless name
// is a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
func CheckMetricName(name string) error { return checkMetricName(name) }

// CheckLabelName returns an error wrapping [ErrInvalidName] unless name is
// a valid label name: [a-zA-Z_][a-zA-Z0-9_]*, not beginning with __.
func CheckLabelName(name string) error {
	if !validLabelName(name) {
		return fmt.Errorf("prom: %w: label name %q must match [a-zA-Z_][a-zA-Z0-9_]*", ErrInvalidName, name)
	}
	if strings.HasPrefix(name, "__") {
		return fmt.Errorf("prom: %w: label name %q: the prefix __ is reserved", ErrInvalidName, name)
	}
	return nil
}

func checkMetricName(name string) error {
	if !validMetricName(name) {
		return fmt.Errorf("prom: %w: metric name %q must match [a-zA-Z_:][a-zA-Z0-9_:]*", ErrInvalidName, name)
	}
	return nil
}

// checkLabelName validates one label name of a metric: besides the rules
// of CheckLabelName, the metric type's reserved name (le, quantile) is
// refused.
func checkLabelName(metric, name, reserved string) error {
	switch {
	case !validLabelName(name):
		return &labelNameError{metric, name, badSyntax}
	case strings.HasPrefix(name, "__"):
		return &labelNameError{metric, name, badPrefix}
	case reserved != "" && name == reserved:
		return &labelNameError{metric, name, badReserved}
	}
	return nil
}

// checkSeriesLabelName is checkLabelName for the labels of a metric's
// series, which may not be OverflowLabel either.
func checkSeriesLabelName(metric, name, reserved string) error {
	if name == OverflowLabel {
		return &labelNameError{metric, name, badOverflow}
	}
	return checkLabelName(metric, name, reserved)
}

// labelNameError is a label name refused for a metric. Its message is
// formatted when it is read: With and WithValues, which only count their
// refusals, then pay one small allocation for a label name that is wrong on
// every call (a caller's bug), not a fmt.Sprintf.
type labelNameError struct {
	metric, name string
	why          labelNameFault
}

type labelNameFault uint8

const (
	badSyntax   labelNameFault = iota // not [a-zA-Z_][a-zA-Z0-9_]*
	badPrefix                         // begins with __
	badReserved                       // the metric type's le or quantile
	badOverflow                       // OverflowLabel
	badConstant                       // one of the metric's constant labels
)

func (e *labelNameError) Error() string {
	switch e.why {
	case badSyntax:
		return fmt.Sprintf("prom: %v: label name %q of metric %q must match [a-zA-Z_][a-zA-Z0-9_]*", ErrInvalidName, e.name, e.metric)
	case badPrefix:
		return fmt.Sprintf("prom: %v: label name %q of metric %q: the prefix __ is reserved", ErrInvalidName, e.name, e.metric)
	case badReserved:
		return fmt.Sprintf("prom: %v: label name %q is reserved on metric %q", ErrInvalidName, e.name, e.metric)
	case badOverflow:
		return fmt.Sprintf("prom: %v: label name %q of metric %q is reserved: it marks the overflow series", ErrInvalidName, e.name, e.metric)
	}
	return fmt.Sprintf("prom: %v: label %q of metric %q is already a constant label", ErrInvalidLabels, e.name, e.metric)
}

// Unwrap returns ErrInvalidLabels for a constant label's name given again,
// ErrInvalidName otherwise.
func (e *labelNameError) Unwrap() error {
	if e.why == badConstant {
		return ErrInvalidLabels
	}
	return ErrInvalidName
}

// labelSchema is what a family knows about its labels.
type labelSchema struct {
	metric     string
	reserved   string   // le or quantile, or ""
	declared   []string // declared variable label names, in order; nil if undeclared
	constNames []string // sorted
	constVals  []string
}

func newLabelSchema(metric, reserved string, declared []string, constLabels Labels) (labelSchema, error) {
	s := labelSchema{metric: metric, reserved: reserved}
	for i, n := range declared {
		if err := checkSeriesLabelName(metric, n, reserved); err != nil {
			return s, err
		}
		if slices.Contains(declared[:i], n) {
			return s, fmt.Errorf("prom: %w: label name %q declared twice on metric %q", ErrInvalidLabels, n, metric)
		}
		if _, ok := constLabels[n]; ok {
			return s, fmt.Errorf("prom: %w: label name %q of metric %q is both a constant and a variable label", ErrInvalidLabels, n, metric)
		}
	}
	if declared != nil {
		s.declared = slices.Clip(slices.Clone(declared))
	}
	for n := range constLabels {
		if err := checkSeriesLabelName(metric, n, reserved); err != nil {
			return s, err
		}
		s.constNames = append(s.constNames, n)
	}
	slices.Sort(s.constNames)
	for _, n := range s.constNames {
		s.constVals = append(s.constVals, expo.ValidUTF8(constLabels[n]))
	}
	return s, nil
}

// labelKey is a label set on its way to a lookup: positional values for a
// family with declared names, or names and values sorted by name otherwise.
// It lives on the caller's stack.
type labelKey struct {
	names  []string // nil for declared families
	values []string
	hash   uint32 // of the names and values; 32 bits keep series small
}

// labelBuf is stack room for a labelKey's slices. It is a separate variable
// because a struct pointing into itself escapes to the heap.
type labelBuf struct {
	names, values [maxStackLabels]string
}

// hashSeeds make label hashes differ from process to process, so that
// label values chosen to collide in one process do not in another.
var hashSeeds = func() (s [2]uint64) {
	seed := maphash.MakeSeed()
	s[0] = maphash.String(seed, "prom label hash 0") | 1
	s[1] = maphash.String(seed, "prom label hash 1") | 1
	return s
}()

// hashStrings folds the strings into h. Each string is read in at most two
// overlapping words, or 16-byte blocks when longer (the short-input path of
// wyhash), and mixed with a 64x64->128-bit multiply: inline, without the
// call maphash.String costs, which is most of a short string's hashing.
func hashStrings(h uint64, ss []string) uint64 {
	for _, s := range ss {
		h = hashString(h, s)
	}
	return h
}

func hashString(h uint64, s string) uint64 {
	n := len(s)
	p := unsafe.Pointer(unsafe.StringData(s))
	var a, b uint64
	switch {
	case n > 16:
		for ; n > 16; n -= 16 {
			h = mix(load64(p)^hashSeeds[0], load64(unsafe.Add(p, 8))^h)
			p = unsafe.Add(p, 16)
		}
		a, b = load64(unsafe.Add(p, n-16)), load64(unsafe.Add(p, n-8))
	case n >= 8:
		a, b = load64(p), load64(unsafe.Add(p, n-8))
	case n >= 4:
		a, b = uint64(load32(p)), uint64(load32(unsafe.Add(p, n-4)))
	case n > 0:
		a = uint64(s[0])<<16 | uint64(s[n>>1])<<8 | uint64(s[n-1])
	}
	// The length goes in multiplied, so that it cannot cancel out against
	// a value's bytes ("1000" against "10000").
	return mix(a^hashSeeds[0]^h^uint64(len(s))*0x9e3779b97f4a7c15, b^hashSeeds[1])
}

// fold folds a 64-bit hash into the 30 bits a series keeps (the others
// are plainText and tombstoneBit).
func fold(h uint64) uint32 { return uint32(h^h>>32) &^ (plainText | tombstoneBit) }

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// load64 and load32 read little-endian words; p must have that many
// readable bytes.
func load64(p unsafe.Pointer) uint64 {
	b := (*[8]byte)(p)
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func load32(p unsafe.Pointer) uint32 {
	b := (*[4]byte)(p)
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

const hashInit = 0xcbf29ce484222325

// valuesKey prepares a positional lookup.
func valuesKey(values []string) labelKey {
	return labelKey{values: values, hash: fold(hashStrings(hashInit, values))}
}

// mapKey prepares a lookup from a label map, using buf for room. ok is
// false when the map cannot match any series of the schema (wrong names or
// count, or an invalid name with an empty value); the caller takes the
// slow path, which reports why. The key is
// returned by value: filling it through a pointer would move buf to the
// heap.
//
// hint, for a family without declared names, is the sorted names of a
// series made before: a map with exactly those names is read by looking
// them up, which is cheaper than ranging over it and sorting.
func mapKey(s *labelSchema, m Labels, buf *labelBuf, hint []string) (k labelKey, ok bool) {
	if s.declared != nil {
		if len(m) != len(s.declared) {
			return k, false
		}
		vals := buf.values[:]
		if len(m) > maxStackLabels {
			vals = make([]string, len(m))
		}
		vals = vals[:len(m)]
		if !declaredValues(s.declared, m, vals) {
			return k, false
		}
		return valuesKey(vals), true
	}
	if len(hint) == len(m) && len(m) <= maxStackLabels {
		vals := buf.values[:len(m)]
		found := true
		for i, name := range hint {
			v, ok := m[name]
			if !ok || v == "" {
				found = false
				break
			}
			vals[i] = v
		}
		if found {
			return namedKey(hint, vals), true
		}
	}
	names, vals := buf.names[:0], buf.values[:0]
	if len(m) > maxStackLabels {
		names, vals = make([]string, 0, len(m)), make([]string, 0, len(m))
	}
	for name, v := range m {
		if v == "" {
			// A label with an empty value is no label: Prometheus reads
			// {a="1",b=""} as {a="1"}, so it is that series. Its name is
			// still checked, so that a bad one is refused, not ignored.
			if s.nameError(name) != nil {
				return k, false
			}
			continue
		}
		// insertion sort by name: label sets are small
		i := len(names)
		names, vals = append(names, name), append(vals, v)
		for ; i > 0 && names[i-1] > name; i-- {
			names[i], vals[i] = names[i-1], vals[i-1]
		}
		names[i], vals[i] = name, v
	}
	return namedKey(names, vals), true
}

// declaredValues reads into vals the values of m for the declared names,
// in order, and reports whether m has them all. With len(m) equal to
// len(declared), finding them all means no other names are there; looking
// each name up is cheaper than ranging over the map.
func declaredValues(declared []string, m Labels, vals []string) bool {
	for i, name := range declared {
		v, ok := m[name]
		if !ok {
			return false
		}
		vals[i] = v
	}
	return true
}

// namedKey prepares a lookup by names and values sorted by name.
func namedKey(names, values []string) labelKey {
	return labelKey{names: names, values: values, hash: fold(hashStrings(hashStrings(hashInit, names), values))}
}

// validate checks a label set that is about to become a new series, and
// returns its values (and names, for undeclared families) made valid UTF-8.
func (s *labelSchema) validate(k *labelKey) error {
	if s.declared != nil {
		if len(k.values) != len(s.declared) {
			return fmt.Errorf("prom: %w: metric %q has %d label names %v, got %s", ErrInvalidLabels, s.metric, len(s.declared), s.declared, plural(len(k.values), "value"))
		}
		return nil
	}
	for _, n := range k.names {
		if err := s.nameError(n); err != nil {
			return err
		}
	}
	return nil
}

// nameError checks one variable label name of a schema without declared
// names.
func (s *labelSchema) nameError(n string) error {
	if err := checkSeriesLabelName(s.metric, n, s.reserved); err != nil {
		return err
	}
	if _, ok := slices.BinarySearch(s.constNames, n); ok {
		return &labelNameError{s.metric, n, badConstant}
	}
	return nil
}

// mapError explains why mapKey found that a label map cannot match a
// series of the schema.
func (s *labelSchema) mapError(m Labels) error {
	if s.declared == nil {
		for name := range m {
			if err := s.nameError(name); err != nil {
				return err
			}
		}
		return fmt.Errorf("prom: %w: metric %q: labels refused", ErrInvalidLabels, s.metric) // not reached: mapKey refuses only a bad name
	}
	for name := range m {
		if !slices.Contains(s.declared, name) {
			if err := checkSeriesLabelName(s.metric, name, s.reserved); err != nil {
				return err
			}
			return fmt.Errorf("prom: %w: metric %q has no label %q (its labels are %v)", ErrInvalidLabels, s.metric, name, s.declared)
		}
	}
	var missing []string
	for _, name := range s.declared {
		if _, ok := m[name]; !ok {
			missing = append(missing, strconv.Quote(name))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("prom: %w: metric %q has labels %v, got %s, without %s", ErrInvalidLabels, s.metric, s.declared, plural(len(m), "label"), strings.Join(missing, ", "))
	}
	return fmt.Errorf("prom: %w: metric %q has labels %v, got %s", ErrInvalidLabels, s.metric, s.declared, plural(len(m), "label"))
}

// validUTF8 reports whether every string is valid UTF-8.
func validUTF8(ss []string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// sanitize returns ss with invalid UTF-8 replaced, in a new slice.
func sanitize(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = expo.ValidUTF8(s)
	}
	return out
}

// plural is n and the noun, in the plural unless n is 1: "1 value",
// "2 values".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
