package bench

// A second OpenMetrics parser for the cross-check: the strict parser of the
// Python client (prometheus_client.openmetrics.parser, Debian's
// python3-prometheus-client 0.16), written alongside the OpenMetrics
// specification. It reads the unshortened fixture, whose 11,400-byte label
// value expfmt's decoder is too slow for (see omOddValues), and it is a
// second opinion on what a strict consumer accepts. One python3 process
// reads every body of a run (and, for a body that does not parse as a
// whole, each family's block) and prints the families as JSON, which
// decodeOpenMetricsPython turns into dto.MetricFamily the way expfmt's
// OpenMetrics decoder shapes them (a counter family is named with _total).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// pythonParser reads a JSON list of base64 bodies and prints, for each, the
// families or the parser's error. A body must be valid UTF-8 (decoded
// strictly), as OpenMetrics requires. Numbers travel as Python's repr of a
// float, which reads back exactly.
const pythonParser = `
import base64, json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families

def num(v):
    return None if v is None else repr(float(v))

def parse(body):
    text = base64.b64decode(body).decode("utf-8")
    fams = []
    for f in text_string_to_metric_families(text):
        samples = []
        for s in f.samples:
            ex = None
            if s.exemplar is not None:
                ex = {"labels": s.exemplar.labels, "value": num(s.exemplar.value), "timestamp": num(s.exemplar.timestamp)}
            samples.append({"name": s.name, "labels": s.labels, "value": num(s.value),
                            "timestamp": num(s.timestamp), "exemplar": ex})
        fams.append({"name": f.name, "type": f.type, "help": f.documentation, "unit": f.unit, "samples": samples})
    return fams

out = []
for body in json.load(sys.stdin):
    try:
        out.append({"families": parse(body)})
    except Exception as e:
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
json.dump(out, sys.stdout)
`

type pyResult struct {
	Families []pyFamily `json:"families"`
	Error    string     `json:"error"`
}

type pyFamily struct {
	Name, Type, Help, Unit string
	Samples                []pySample
}

type pySample struct {
	Name      string
	Labels    map[string]string
	Value     string
	Timestamp *string
	Exemplar  *struct {
		Labels    map[string]string
		Value     string
		Timestamp *string
	}
}

const python3 = "/usr/bin/python3"

// pythonMissing says why the Python parser cannot run, or "".
var pythonMissing = sync.OnceValue(func() string {
	out, err := exec.Command(python3, "-c", "import prometheus_client.openmetrics.parser").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s cannot import prometheus_client (apt-get install python3-prometheus-client): %v\n%s", python3, err, out)
	}
	return ""
})

// runPythonParser parses bodies in one python3 process; it skips the test
// when python3 or the module is missing.
func runPythonParser(t testing.TB, bodies [][]byte) []pyResult {
	t.Helper()
	if why := pythonMissing(); why != "" {
		t.Skip(why)
	}
	in := make([]string, len(bodies))
	for i, b := range bodies {
		in[i] = base64.StdEncoding.EncodeToString(b)
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python3, "-c", pythonParser)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.Bytes())
	}
	var res []pyResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(bodies) {
		t.Fatalf("python3's output (%d results for %d bodies): %v", len(res), len(bodies), err)
	}
	return res
}

// decodeOpenMetricsPython decodes each side's body with the Python parser,
// falling back to its family blocks as decodeOpenMetrics does.
func decodeOpenMetricsPython(t testing.TB, p *problems, bodies [][]byte, sides []string) []map[string]*dto.MetricFamily {
	t.Helper()
	// Every body, then every block of every body, in one process.
	all := append([][]byte(nil), bodies...)
	blocks := make([][]omBlock, len(bodies))
	for i, b := range bodies {
		blocks[i] = omBlocks(b)
		for _, bl := range blocks[i] {
			all = append(all, bl.text)
		}
	}
	res := runPythonParser(t, all)
	next := len(bodies)
	out := make([]map[string]*dto.MetricFamily, len(bodies))
	for i, side := range sides {
		blockRes := res[next : next+len(blocks[i])]
		next += len(blocks[i])
		if res[i].Error == "" {
			out[i] = pyToDTO(p, side, res[i].Families)
			continue
		}
		p.addf("%s: the exposition does not parse: %s", side, res[i].Error)
		out[i] = map[string]*dto.MetricFamily{}
		for j, br := range blockRes {
			if br.Error != "" {
				p.addf("%s: family %s does not parse: %s", side, blocks[i][j].name, br.Error)
				continue
			}
			for name, mf := range pyToDTO(p, side, br.Families) {
				if _, dup := out[i][name]; dup {
					p.addf("%s: family %s appears twice", side, name)
				}
				out[i][name] = mf
			}
		}
	}
	return out
}

// pyToDTO turns the Python parser's families into dto families shaped as
// expfmt's OpenMetrics decoder shapes them.
func pyToDTO(p *problems, side string, fams []pyFamily) map[string]*dto.MetricFamily {
	out := map[string]*dto.MetricFamily{}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			p.addf("%s: the Python parser's number %q: %v", side, s, err)
		}
		return v
	}
	stamp := func(s string) *timestamppb.Timestamp {
		sec, frac := math.Modf(num(s))
		return timestamppb.New(time.Unix(int64(sec), int64(math.Round(frac*1e9))))
	}
	for _, f := range fams {
		mf := &dto.MetricFamily{Name: proto.String(f.Name)}
		if f.Help != "" {
			mf.Help = proto.String(f.Help)
		}
		if f.Unit != "" {
			mf.Unit = proto.String(f.Unit)
		}
		switch f.Type {
		case "counter":
			mf.Type = dto.MetricType_COUNTER.Enum()
			mf.Name = proto.String(f.Name + "_total")
		case "gauge":
			mf.Type = dto.MetricType_GAUGE.Enum()
		case "histogram":
			mf.Type = dto.MetricType_HISTOGRAM.Enum()
		case "summary":
			mf.Type = dto.MetricType_SUMMARY.Enum()
		case "unknown":
			mf.Type = dto.MetricType_UNTYPED.Enum()
		default:
			p.addf("%s: family %s has type %s, which this fixture does not use", side, f.Name, f.Type)
			continue
		}
		series := map[string]*dto.Metric{}
		for _, s := range f.Samples {
			own := map[string]string{}
			for n, v := range s.Labels {
				if !(n == "le" && f.Type == "histogram" || n == "quantile" && f.Type == "summary") {
					own[n] = v
				}
			}
			key := seriesKey(own)
			m := series[key]
			if m == nil {
				m = &dto.Metric{}
				for n, v := range own {
					m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(n), Value: proto.String(v)})
				}
				switch f.Type {
				case "counter":
					m.Counter = &dto.Counter{}
				case "gauge":
					m.Gauge = &dto.Gauge{}
				case "unknown":
					m.Untyped = &dto.Untyped{}
				case "histogram":
					m.Histogram = &dto.Histogram{}
				case "summary":
					m.Summary = &dto.Summary{}
				}
				series[key] = m
				mf.Metric = append(mf.Metric, m)
			}
			if s.Timestamp != nil {
				ms := int64(math.Round(num(*s.Timestamp) * 1000))
				m.TimestampMs = &ms
			}
			var ex *dto.Exemplar
			if e := s.Exemplar; e != nil {
				ex = &dto.Exemplar{Value: proto.Float64(num(e.Value))}
				for n, v := range e.Labels {
					ex.Label = append(ex.Label, &dto.LabelPair{Name: proto.String(n), Value: proto.String(v)})
				}
				if e.Timestamp != nil {
					ex.Timestamp = stamp(*e.Timestamp)
				}
			}
			v := num(s.Value)
			role := strings.TrimPrefix(s.Name, f.Name)
			switch {
			case f.Type == "counter" && role == "_total":
				m.Counter.Value, m.Counter.Exemplar = proto.Float64(v), ex
			case f.Type == "counter" && role == "_created":
				m.Counter.CreatedTimestamp = stamp(s.Value)
			case (f.Type == "gauge" || f.Type == "unknown") && role == "":
				if m.Gauge != nil {
					m.Gauge.Value = proto.Float64(v)
				} else {
					m.Untyped.Value = proto.Float64(v)
				}
			case f.Type == "histogram" && role == "_bucket":
				m.Histogram.Bucket = append(m.Histogram.Bucket, &dto.Bucket{
					UpperBound: proto.Float64(num(s.Labels["le"])), CumulativeCount: proto.Uint64(uint64(v)), Exemplar: ex,
				})
			case f.Type == "histogram" && role == "_count":
				m.Histogram.SampleCount = proto.Uint64(uint64(v))
			case f.Type == "histogram" && role == "_sum":
				m.Histogram.SampleSum = proto.Float64(v)
			case f.Type == "histogram" && role == "_created":
				m.Histogram.CreatedTimestamp = stamp(s.Value)
			case f.Type == "summary" && role == "":
				m.Summary.Quantile = append(m.Summary.Quantile, &dto.Quantile{
					Quantile: proto.Float64(num(s.Labels["quantile"])), Value: proto.Float64(v),
				})
			case f.Type == "summary" && role == "_count":
				m.Summary.SampleCount = proto.Uint64(uint64(v))
			case f.Type == "summary" && role == "_sum":
				m.Summary.SampleSum = proto.Float64(v)
			case f.Type == "summary" && role == "_created":
				m.Summary.CreatedTimestamp = stamp(s.Value)
			default:
				p.addf("%s: family %s (%s): unexpected sample %s", side, f.Name, f.Type, s.Name)
			}
			if ex != nil && !(role == "_total" || role == "_bucket") {
				p.addf("%s: %s has an exemplar", side, s.Name)
			}
		}
		if _, dup := out[mf.GetName()]; dup {
			p.addf("%s: family %s appears twice", side, mf.GetName())
		}
		out[mf.GetName()] = mf
	}
	return out
}
