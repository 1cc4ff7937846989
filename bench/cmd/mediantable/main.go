// Command mediantable reads `go test -bench` output on standard input and
// prints, as a Markdown table, the median ns/op, B/op and allocs/op of each
// benchmark and library (sub-benchmark).
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	type key struct{ bench, lib string }
	samples := map[key][3][]float64{}
	var order []key
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i]
		}
		bench, lib, _ := strings.Cut(name, "/")
		k := key{bench, lib}
		s, seen := samples[k]
		if !seen {
			order = append(order, k)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s[0] = append(s[0], v)
			case "B/op":
				s[1] = append(s[1], v)
			case "allocs/op":
				s[2] = append(s[2], v)
			}
		}
		samples[k] = s
	}
	fmt.Println("| benchmark | library | ns/op | B/op | allocs/op | runs |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: |")
	for _, k := range order {
		s := samples[k]
		fmt.Printf("| %s | %s | %s | %s | %s | %d |\n", k.bench, k.lib,
			median(s[0]), median(s[1]), median(s[2]), len(s[0]))
	}
}

func median(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	v = slices.Clone(v)
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return strconv.FormatFloat(m, 'f', 0, 64)
}
