// Command chart draws the side-by-side benchmarks as an SVG bar chart: for
// each benchmark, the median time per operation of client_golang and
// VictoriaMetrics/metrics relative to prom's (prom = 1; above 1, prom is
// faster).
//
//	go test -run '^$' -bench . -count 6 -cpu 1,2 . > /tmp/bench.txt
//	go run ./chart -cpu 2 < /tmp/bench.txt > chart.svg
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// libs are the columns, prom first as the base.
var libs = []string{"prom", "clientgolang", "vm"}

var colors = map[string]string{"clientgolang": "#e6522c", "vm": "#3b78b4"}

func main() {
	cpu := flag.Int("cpu", 2, "use the runs at this GOMAXPROCS")
	flag.Parse()
	rows, err := medians(os.Stdin, *cpu)
	if err != nil {
		log.Fatal(err)
	}
	if err := draw(os.Stdout, rows); err != nil {
		log.Fatal(err)
	}
}

// row is one benchmark: median ns/op by library.
type row struct {
	name string
	ns   map[string]float64
}

// medians reads go test -bench output and returns the median ns/op (B/series
// for the memory benchmarks) of each
// Benchmark<Op>/<lib> (variants as <lib>_<variant> become rows of their own,
// matched by variant across libraries where they share it).
func medians(r io.Reader, cpu int) ([]row, error) {
	samples := map[string]map[string][]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || f[3] != "ns/op" {
			continue
		}
		name, sub, ok := strings.Cut(strings.TrimPrefix(f[0], "Benchmark"), "/")
		if !ok {
			continue
		}
		procs := 1 // go test leaves the -N suffix off at GOMAXPROCS 1
		if i := strings.LastIndexByte(sub, '-'); i > 0 {
			if n, err := strconv.Atoi(sub[i+1:]); err == nil {
				sub, procs = sub[:i], n
			}
		}
		if procs != cpu {
			continue
		}
		lib, variant, _ := strings.Cut(sub, "_")
		if !slices.Contains(libs, lib) {
			continue
		}
		if variant != "" {
			name += " " + variant
		}
		// Memory benchmarks are charted by their B/series, not their time.
		value := f[2]
		if j := slices.Index(f, "B/series"); j > 0 {
			value = f[j-1]
			name += " (B/series)"
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f[0], err)
		}
		if samples[name] == nil {
			samples[name] = map[string][]float64{}
		}
		samples[name][lib] = append(samples[name][lib], v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var rows []row
	for name, byLib := range samples {
		if len(byLib["prom"]) == 0 || len(byLib) < 2 {
			continue
		}
		rw := row{name: name, ns: map[string]float64{}}
		for lib, vs := range byLib {
			sort.Float64s(vs)
			rw.ns[lib] = vs[len(vs)/2]
		}
		rows = append(rows, rw)
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.name, b.name) })
	return rows, nil
}

// draw writes one group of bars per row, on a logarithmic axis.
func draw(w io.Writer, rows []row) error {
	const (
		left, barH, gap, width = 230, 12, 10, 640
		logMin, logMax         = -1.0, 2.0 // 0.1x .. 100x
	)
	x := func(ratio float64) float64 {
		pos := min(max(math.Log10(ratio), logMin), logMax)
		return left + (pos-logMin)/(logMax-logMin)*width
	}
	height := 40 + len(rows)*(2*barH+gap) + 30
	b := &strings.Builder{}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", left+width+20, height)
	fmt.Fprintf(b, `<text x="%d" y="16" font-size="13">Time per operation (bytes for the B/series rows) of each peer relative to prom (prom = 1; longer bar = prom better)</text>`+"\n", 10)
	for _, t := range []float64{0.1, 0.5, 1, 2, 10, 100} {
		fmt.Fprintf(b, `<line x1="%.1f" y1="30" x2="%.1f" y2="%d" stroke="%s"/><text x="%.1f" y="%d" text-anchor="middle">%g×</text>`+"\n",
			x(t), x(t), height-25, map[bool]string{true: "#000", false: "#ddd"}[t == 1], x(t), height-10, t)
	}
	y := 40
	for _, r := range rows {
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-6, y+barH+4, html.EscapeString(r.name))
		for _, lib := range libs[1:] {
			ns, ok := r.ns[lib]
			if ok {
				ratio := ns / r.ns["prom"]
				x0, x1 := x(1), x(ratio)
				if x1 < x0 {
					x0, x1 = x1, x0
				}
				fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %.2f× prom</title></rect>`+"\n",
					x0, y, x1-x0, barH-1, colors[lib], lib, ratio)
				fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="9">%s %.2f</text>`+"\n", max(x0, x1)+3, y+barH-2, lib, ratio)
			}
			y += barH
		}
		y += gap
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
