package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
)

// A line of the table: one quantity of one benchmark, the project's value on
// a backend against PyTorch's.
type metric struct {
	key   string // bench and variant, e.g. "lenet5 b64"
	name  string // what is measured, with its unit
	field string // JSON field; a list takes its first element
	// target is the largest acceptable ratio project/PyTorch per backend
	// (absent: no target).
	target map[string]float64
	// projectOnly lines have no PyTorch counterpart (compile times).
	projectOnly bool
	// quality marks figures of the result, not of speed, shown so that a
	// fast run that learns less is seen.
	quality bool
}

var metrics = []metric{
	{key: "lenet5 b64", name: "train epoch 60k, wall s", field: "train_epoch_s", target: map[string]float64{"xla": 1, "go": 3}},
	{key: "lenet5 b64", name: "train epoch 60k, CPU s", field: "train_epoch_cpu_s", target: map[string]float64{"xla": 1.2}},
	{key: "lenet5 b64", name: "first step (compile + 1-2 steps), s", field: "first_step_s", target: map[string]float64{"go": 20}},
	{key: "lenet5 b64", name: "eval 10k, wall s", field: "eval_s", target: map[string]float64{"xla": 1}},
	{key: "lenet5 b64", name: "eval 10k, CPU s", field: "eval_cpu_s"},
	{key: "lenet5 b64", name: "eval graph compile, s", field: "eval_compile_s", projectOnly: true},
	{key: "lenet5 b64", name: "peak RSS of training, MiB", field: "peak_rss_train_mib", target: map[string]float64{"xla": 1.5, "go": 1.5}},
	{key: "lenet5 b64", name: "test accuracy after 1 epoch", field: "test_accuracy", quality: true},
	{key: "lenet5 b256", name: "train epoch 60k, wall s", field: "train_epoch_s", target: map[string]float64{"xla": 1, "go": 3}},
	{key: "lenet5 b256", name: "train epoch 60k, CPU s", field: "train_epoch_cpu_s", target: map[string]float64{"xla": 1.2}},
	{key: "lenet5 b256", name: "first step (compile + 1-2 steps), s", field: "first_step_s", target: map[string]float64{"go": 20}},
	{key: "lenet5 b256", name: "peak RSS of training, MiB", field: "peak_rss_train_mib", target: map[string]float64{"xla": 1.5, "go": 1.5}},
	{key: "regression_epoch", name: "epoch of 80 points, wall ms", field: "epoch_ms"},
	{key: "regression_epoch", name: "epoch of 80 points, CPU ms", field: "epoch_cpu_ms"},
	{key: "regression_cv", name: "5-fold CV x 180 epochs, wall s", field: "seconds", target: map[string]float64{"xla": 1, "go": 1.2}},
	{key: "regression_cv", name: "5-fold CV x 180 epochs, CPU s", field: "cpu_s"},
	{key: "regression_cv", name: "mean-ensemble test MSE", field: "mean_ensemble_test_mse", quality: true},
	{key: "regression_study", name: "50-trial study, wall s", field: "seconds", target: map[string]float64{"xla": 1, "go": 1}},
	{key: "regression_study", name: "50-trial study, CPU s", field: "cpu_s"},
	{key: "regression_study", name: "epochs trained (all trials)", field: "epochs_run", quality: true},
	{key: "regression_study", name: "wall ms per epoch trained", field: "ms_per_epoch_run"},
	{key: "regression_study", name: "best validation MSE", field: "best_value", quality: true},
}

// lineKey names the benchmark a JSON line belongs to, as metric.key.
func lineKey(l map[string]any) string {
	b, _ := l["bench"].(string)
	if b == "lenet5" {
		return fmt.Sprintf("lenet5 b%v", l["batch"])
	}
	return b
}

// sideOf is "pytorch" or the project's backend.
func sideOf(l map[string]any) string {
	if s, _ := l["side"].(string); s == "pytorch" {
		return "pytorch"
	}
	b, _ := l["backend"].(string)
	return b
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case []any:
		if len(x) > 0 {
			return number(x[0])
		}
	}
	return 0, false
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// tableMain reads the JSON lines that run.sh collected and prints the
// side-by-side table: medians over runs, ratio project/PyTorch, target.
func tableMain(args []string) error {
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "end with the three ratio lines of `make bench-quick`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: bench table [--quick] RESULTS.jsonl")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	lines, err := readLines(f, fs.Arg(0))
	if err != nil {
		return err
	}
	// values[key][side][field] are the measurements over runs; loads likewise.
	values := map[string]map[string]map[string][]float64{}
	extrapolated := map[string]map[string]float64{}
	for _, l := range lines {
		k, s := lineKey(l), sideOf(l)
		if values[k] == nil {
			values[k] = map[string]map[string][]float64{}
			extrapolated[k] = map[string]float64{}
		}
		if values[k][s] == nil {
			values[k][s] = map[string][]float64{}
		}
		for field, v := range l {
			if x, ok := number(v); ok {
				values[k][s][field] = append(values[k][s][field], x)
			}
		}
		if x, ok := number(l["extrapolated_from_steps"]); ok {
			extrapolated[k][s] = x
		}
	}
	backends := []string{"xla", "go"}
	w := os.Stdout
	fmt.Fprintln(w, "| benchmark | quantity | backend | project | PyTorch | ratio | target | met | runs | load (1m) |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---|---|---:|")
	ratios := map[string]float64{}
	for _, m := range metrics {
		py := values[m.key]["pytorch"]
		for _, be := range backends {
			pr := values[m.key][be]
			if pr == nil || len(pr[m.field]) == 0 {
				continue
			}
			pv := median(pr[m.field])
			tv := math.NaN()
			if py != nil {
				tv = median(py[m.field])
			}
			name := m.name
			if m.field == "first_step_s" && math.IsNaN(tv) && py != nil {
				// PyTorch has no compile step and its scripts time whole
				// epochs: compare with its mean step.
				ep, imgs, batch := median(py["train_epoch_s"]), median(py["train_images"]), median(py["batch"])
				tv = ep / math.Ceil(imgs/batch)
				name += " (PyTorch: mean step)"
			}
			ratio := pv / tv
			if n := extrapolated[m.key][be]; n > 0 {
				if strings.HasPrefix(m.field, "train_epoch") {
					name += fmt.Sprintf(" (extrapolated from %.0f steps)", n)
				} else if m.quality {
					name += fmt.Sprintf(" (after %.0f steps only)", n)
				}
			}
			target, met := "", ""
			if t, ok := m.target[be]; ok {
				target = fmt.Sprintf("<= %g", t)
				switch {
				case math.IsNaN(ratio):
					met = "?"
				case ratio <= t:
					met = "yes"
				default:
					met = "**no**"
				}
			}
			load := median(pr["load_avg_1m"])
			if py != nil {
				load = median(append(append([]float64(nil), pr["load_avg_1m"]...), py["load_avg_1m"]...))
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %d/%d | %.1f |\n", m.key, name, be,
				fmtNum(pv), fmtNum(tv), fmtRatio(ratio, m.projectOnly), target, met,
				len(pr[m.field]), len(py[m.field]), load)
			if m.field == "train_epoch_s" && m.key == "lenet5 b64" {
				ratios["lenet5_epoch_ratio_"+be] = ratio
			}
			if m.field == "seconds" && m.key == "regression_cv" {
				ratios["regression_cv_ratio_"+be] = ratio
			}
		}
	}
	if *quick {
		for _, k := range []string{"lenet5_epoch_ratio_xla", "lenet5_epoch_ratio_go", "regression_cv_ratio_xla"} {
			r, ok := ratios[k]
			if !ok || math.IsNaN(r) || math.IsInf(r, 0) {
				fmt.Fprintf(w, "%s=NA\n", k)
				continue
			}
			fmt.Fprintf(w, "%s=%.2f\n", k, r)
		}
	}
	return nil
}

func readLines(r io.Reader, name string) ([]map[string]any, error) {
	var lines []map[string]any
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(text, "{") {
			continue
		}
		var l map[string]any
		if err := json.Unmarshal([]byte(text), &l); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, n, err)
		}
		lines = append(lines, l)
	}
	return lines, sc.Err()
}

func fmtNum(x float64) string {
	switch {
	case math.IsNaN(x):
		return "n/a"
	case math.Abs(x) >= 100:
		return fmt.Sprintf("%.0f", x)
	case math.Abs(x) >= 10:
		return fmt.Sprintf("%.1f", x)
	case math.Abs(x) >= 1:
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprintf("%.3g", x)
}

func fmtRatio(r float64, projectOnly bool) string {
	if projectOnly || math.IsNaN(r) || math.IsInf(r, 0) {
		return ""
	}
	return fmt.Sprintf("%.2f", r)
}
