package quantile

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

// Fuzz input layout: data[0] selects the value encoding (bits 0-1), the
// objective set (bits 2-3) and the insertion mode (bits 4-5); data[1] is a
// repeat count; the rest encodes the values.
const (
	encFloat64 = iota // 8 bytes per value: IEEE 754 bits, little endian
	encInt8           // 1 byte per value: many duplicates
	encInt16          // 2 bytes per value, divided by 16
	encSpecial        // 1 byte per value from specialValues
)

const (
	modeInsert = iota
	modeInsertSorted
	modeQueries // Insert with interleaved queries
	modeMerge   // split into two streams, then Merge
)

var specialValues = [16]float64{
	math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1),
	math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64,
	1, -1, 0.5, 2, 3, 1e300, -1e-300, 4,
}

func decodeFuzz(data []byte) (vals []float64, objs []Objective, mode int) {
	if len(data) < 2 {
		return nil, defaultObjectives, modeInsert
	}
	enc, set, mode, repeat := int(data[0]&3), int(data[0]>>2&3), int(data[0]>>4&3), 1+int(data[1]%16)
	objs = objectiveSets[set].objs
	body := data[2:]
	var base []float64
	switch enc {
	case encFloat64:
		for ; len(body) >= 8; body = body[8:] {
			base = append(base, math.Float64frombits(binary.LittleEndian.Uint64(body)))
		}
	case encInt8:
		for _, b := range body {
			base = append(base, float64(int8(b)))
		}
	case encInt16:
		for ; len(body) >= 2; body = body[2:] {
			base = append(base, float64(int16(binary.LittleEndian.Uint16(body)))/16)
		}
	case encSpecial:
		for _, b := range body {
			base = append(base, specialValues[b&15])
		}
	}
	for range repeat {
		vals = append(vals, base...)
	}
	return vals, objs, mode
}

func encodeFuzz(vals []float64, enc, set, mode int) []byte {
	out := []byte{byte(enc | set<<2 | mode<<4), 0}
	for _, v := range vals {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
	}
	return out
}

func FuzzStream(f *testing.F) {
	for i, d := range distributions {
		vals := d.vals[:min(len(d.vals), 2048)]
		f.Add(encodeFuzz(vals, encFloat64, i%len(objectiveSets), i%4))
		f.Add(encodeFuzz(vals, encFloat64, 0, modeMerge))
	}
	f.Add([]byte{byte(encInt8), 15, 1, 2, 3, 3, 3, 200, 7, 7, 0, 0, 9})
	f.Add([]byte{byte(encSpecial | modeMerge<<4), 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{byte(encInt16 | 1<<2 | modeQueries<<4), 7, 1, 0, 255, 255, 0, 128, 12, 34})
	f.Fuzz(func(t *testing.T, data []byte) {
		vals, objs, mode := decodeFuzz(data)
		sorted := sortedClean(vals)
		s := New(objs)
		switch mode {
		case modeInsert, modeQueries:
			for i, v := range vals {
				s.Insert(v)
				if mode == modeQueries && i%101 == 0 {
					if q := s.Query(0.5); len(sorted) > 0 && math.IsNaN(q) && s.Count() > 0 {
						t.Fatalf("Query returned NaN with %d values", s.Count())
					}
				}
			}
		case modeInsertSorted:
			chunk := slices.Clone(vals)
			slices.SortFunc(chunk, func(a, b float64) int {
				switch {
				case a < b:
					return -1
				case a > b:
					return 1
				}
				return 0
			})
			s.InsertSorted(chunk)
		case modeMerge:
			other := New(objs)
			for i, v := range vals {
				if (i/3)%2 == 0 {
					s.Insert(v)
				} else {
					other.Insert(v)
				}
			}
			s.Merge(other)
		}
		if len(sorted) == 0 {
			checkStream(t, s, objs, nil, 1)
			return
		}
		if mode != modeMerge {
			checkStream(t, s, objs, sorted, 1)
			checkInvariant(t, s)
			return
		}
		// After Merge errors add: rank intervals must stay valid, Query
		// monotonic, and each result as good as the summary allows.
		if s.Count() != uint64(len(sorted)) {
			t.Fatalf("Count() = %d after Merge, want %d", s.Count(), len(sorted))
		}
		checkIntervals(t, s, sorted)
		checkMonotone(t, s, objs)
		var maxGap uint64
		for _, sm := range s.samples {
			maxGap = max(maxGap, sm.g+sm.delta)
		}
		for _, o := range objs {
			checkRank(t, sorted, o.Quantile, float64(maxGap+1)/2/float64(len(sorted)), s.Query(o.Quantile), "merged")
		}
	})
}
