package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
)

// A line of the table: one quantity of one benchmark, the project's value on
// a backend against PyTorch's.
type metric struct {
	key string // bench and variant, e.g. "lenet5 b64"
	// name is what is measured, with its unit; {field} is replaced by the
	// median of that field (e.g. {trials}), so that a run with other sizes
	// says so.
	name  string
	field string // JSON field; a list takes its first element
	// target is the largest acceptable ratio project/PyTorch per backend
	// (absent: no target).
	target map[string]float64
	// projectOnly lines have no PyTorch counterpart (compile times).
	projectOnly bool
	// quality marks figures of the result, not of speed, shown so that a
	// fast run that learns less is seen.
	quality bool
	// pytorchMeanStep, when PyTorch's line lacks field, compares with
	// PyTorch's mean step instead: this epoch field over the epoch's steps.
	pytorchMeanStep string
}

var metrics = []metric{
	{key: "lenet5 b64", name: "train epoch 60k, wall s", field: "train_epoch_s", target: map[string]float64{"xla": 1, "go": 3}},
	{key: "lenet5 b64", name: "train epoch 60k, CPU s", field: "train_epoch_cpu_s", target: map[string]float64{"xla": 1.2}},
	{key: "lenet5 b64", name: "first step (compile + 1-2 steps), s", field: "first_step_s", target: map[string]float64{"go": 20}, pytorchMeanStep: "train_epoch_s"},
	{key: "lenet5 b64", name: "first step (compile + 1-2 steps), CPU s", field: "compile_cpu_s", pytorchMeanStep: "train_epoch_cpu_s"},
	{key: "lenet5 b64", name: "eval 10k, wall s", field: "eval_s", target: map[string]float64{"xla": 1}},
	{key: "lenet5 b64", name: "eval 10k, CPU s", field: "eval_cpu_s"},
	{key: "lenet5 b64", name: "eval graph compile, s", field: "eval_compile_s", projectOnly: true},
	{key: "lenet5 b64", name: "peak RSS of training, MiB", field: "peak_rss_train_mib", target: map[string]float64{"xla": 1.5, "go": 1.5}},
	{key: "lenet5 b64", name: "test accuracy after 1 epoch", field: "test_accuracy", quality: true},
	{key: "lenet5 b256", name: "train epoch 60k, wall s", field: "train_epoch_s", target: map[string]float64{"xla": 1, "go": 3}},
	{key: "lenet5 b256", name: "train epoch 60k, CPU s", field: "train_epoch_cpu_s", target: map[string]float64{"xla": 1.2}},
	{key: "lenet5 b256", name: "first step (compile + 1-2 steps), s", field: "first_step_s", target: map[string]float64{"go": 20}, pytorchMeanStep: "train_epoch_s"},
	{key: "lenet5 b256", name: "first step (compile + 1-2 steps), CPU s", field: "compile_cpu_s", pytorchMeanStep: "train_epoch_cpu_s"},
	{key: "lenet5 b256", name: "peak RSS of training, MiB", field: "peak_rss_train_mib", target: map[string]float64{"xla": 1.5, "go": 1.5}},
	{key: "regression_epoch", name: "epoch of 80 points, wall ms", field: "epoch_ms"},
	{key: "regression_epoch", name: "epoch of 80 points, CPU ms", field: "epoch_cpu_ms"},
	{key: "regression_cv", name: "5-fold CV x 180 epochs, wall s", field: "seconds", target: map[string]float64{"xla": 1, "go": 1.2}},
	{key: "regression_cv", name: "5-fold CV x 180 epochs, CPU s", field: "cpu_s"},
	{key: "regression_cv", name: "mean-ensemble test MSE", field: "mean_ensemble_test_mse", quality: true},
	{key: "regression_study", name: "{trials}-trial study{seeds}, wall s", field: "seconds", target: map[string]float64{"xla": 1, "go": 1}},
	{key: "regression_study", name: "{trials}-trial study{seeds}, CPU s", field: "cpu_s"},
	{key: "regression_study", name: "epochs trained (all trials)", field: "epochs_run", quality: true},
	{key: "regression_study", name: "wall ms per epoch trained", field: "ms_per_epoch_run"},
	{key: "regression_study", name: "CPU ms per epoch trained", field: "cpu_ms_per_epoch_run"},
	{key: "regression_study", name: "graphs compiled", field: "compile_graphs", projectOnly: true},
	{key: "regression_study", name: "compiling (first calls), s", field: "compile_s", projectOnly: true},
	{key: "regression_study", name: "best validation MSE{median}", field: "best_value", quality: true},
	{key: "classification_study", name: "{trials}-trial study 10k/5k{seeds}, wall s", field: "seconds", target: map[string]float64{"xla": 1}},
	{key: "classification_study", name: "{trials}-trial study 10k/5k{seeds}, CPU s", field: "cpu_s"},
	{key: "classification_study", name: "epochs trained (all trials)", field: "epochs_run", quality: true},
	{key: "classification_study", name: "wall ms per epoch trained", field: "ms_per_epoch_run"},
	{key: "classification_study", name: "CPU ms per epoch trained", field: "cpu_ms_per_epoch_run"},
	{key: "classification_study", name: "graphs compiled", field: "compile_graphs", projectOnly: true},
	{key: "classification_study", name: "compiling (first calls), s", field: "compile_s", projectOnly: true},
	{key: "classification_study", name: "best validation accuracy{median}", field: "best_value", quality: true},
}

// homeworkMetrics are the section of the homework item: the first trials of
// each study of the seed preset and one CV fold, measured, then the whole
// seed run extrapolated (bench/go/homework.go).
var homeworkMetrics = []metric{
	{key: "homework", name: "regression: first {regression_trials} trials, wall s", field: "regression_study_s"},
	{key: "homework", name: "regression: first {regression_trials} trials, CPU s", field: "regression_study_cpu_s"},
	{key: "homework", name: "regression: epochs trained (all trials)", field: "regression_epochs_run", quality: true},
	{key: "homework", name: "regression: best validation MSE", field: "regression_best_value", quality: true},
	{key: "homework", name: "regression: one CV fold (epochs: {regression_fold_epochs}), wall s", field: "regression_fold_s"},
	{key: "homework", name: "regression: one CV fold, CPU s", field: "regression_fold_cpu_s"},
	{key: "homework", name: "regression: the fold's test MSE", field: "regression_fold_test_loss", quality: true},
	{key: "homework", name: "classification: first {classification_trials} trials, wall s", field: "classification_study_s"},
	{key: "homework", name: "classification: first {classification_trials} trials, CPU s", field: "classification_study_cpu_s"},
	{key: "homework", name: "classification: epochs trained (all trials)", field: "classification_epochs_run", quality: true},
	{key: "homework", name: "classification: best validation accuracy", field: "classification_best_value", quality: true},
	{key: "homework", name: "classification: one CV fold (epochs: {classification_fold_epochs}, images: {classification_fold_train}), wall s", field: "classification_fold_s"},
	{key: "homework", name: "classification: one CV fold, CPU s", field: "classification_fold_cpu_s"},
	{key: "homework", name: "classification: the fold's test accuracy", field: "classification_fold_test_accuracy", quality: true},
	{key: "homework", name: "regression extrapolated ({regression_seed_trials} trials + {regression_folds} folds), wall h", field: "regression_seed_h"},
	{key: "homework", name: "classification extrapolated ({classification_seed_trials} trials + {classification_folds} folds), wall h", field: "classification_seed_h"},
	{key: "homework", name: "whole homework extrapolated, wall h", field: "seed_total_h", target: map[string]float64{"default": 1}},
	{key: "homework", name: "whole homework extrapolated, CPU h", field: "seed_total_cpu_h"},
	{key: "homework", name: "graphs compiled (whole run)", field: "compile_graphs", projectOnly: true},
	{key: "homework", name: "compiling (first calls), s", field: "compile_s", projectOnly: true},
}

// ratioLines are the summary lines `name_<backend>=ratio` that the table
// ends with when their item ran: the wall time of a line, project over
// PyTorch.
var ratioLines = []struct{ prefix, key, field string }{
	{"regression_study_ratio", "regression_study", "seconds"},
	{"classification_study_ratio", "classification_study", "seconds"},
	{"homework_ratio", "homework", "seed_total_s"},
}

// quickRatios are the three lines `make bench-quick` ends with, exactly.
var quickRatios = []struct{ name, key, field, backend string }{
	{"lenet5_epoch_ratio_xla", "lenet5 b64", "train_epoch_s", "xla"},
	{"lenet5_epoch_ratio_go", "lenet5 b64", "train_epoch_s", "go"},
	{"regression_cv_ratio_xla", "regression_cv", "seconds", "xla"},
}

// The noisy rule. A run is noisy when the 1-minute load average at its start
// exceeded half the cores it could use: its neighbours then held at least
// half the machine, and its wall time measures them as much as the code.
// A verdict (the "met" column) over runs of which any is noisy, on either
// side, reads "noisy" instead of yes or no.
//
// startLoad is the load a run met: load_avg_1m_start, or, on lines from
// before it was recorded, load_avg_1m (read at the run's end, so it counts
// the run's own threads: it can only call more runs noisy). Its cores are
// "cores" (nproc), or the older lines' "cpus" (PyTorch's os.cpu_count())
// or "gomaxprocs". A run that records neither load nor cores is noisy: it
// cannot be checked.
func startLoad(l map[string]any) (load, cores float64, ok bool) {
	load, okLoad := number(l["load_avg_1m_start"])
	if !okLoad {
		load, okLoad = number(l["load_avg_1m"])
	}
	okCores := false
	for _, f := range []string{"cores", "cpus", "gomaxprocs"} {
		if cores, okCores = number(l[f]); okCores && cores > 0 {
			break
		}
		okCores = false
	}
	return load, cores, okLoad && okCores && load >= 0
}

// noisyRun applies the rule to one JSON line.
func noisyRun(l map[string]any) bool {
	load, cores, ok := startLoad(l)
	return !ok || load > cores/2
}

// loads are the loads of the runs of one line of the table, on one side.
type loads struct {
	runs, noisy int
	endOnly     int     // runs that recorded the load only at their end
	startMax    float64 // highest load at a run's start
	cores       float64 // cores of the run that started at startMax
	end         []float64
}

func (ld *loads) add(l map[string]any) {
	ld.runs++
	if noisyRun(l) {
		ld.noisy++
	}
	if _, ok := number(l["load_avg_1m_start"]); !ok {
		ld.endOnly++
	}
	if load, cores, ok := startLoad(l); ok && (ld.runs == 1 || load > ld.startMax) {
		ld.startMax, ld.cores = load, cores
	}
	if x, ok := number(l["load_avg_1m"]); ok {
		ld.end = append(ld.end, x)
	}
}

// rowLoads joins the project's runs on a backend with PyTorch's.
func rowLoads(sides ...*loads) loads {
	var r loads
	first := true
	for _, s := range sides {
		if s == nil || s.runs == 0 {
			continue
		}
		r.runs += s.runs
		r.noisy += s.noisy
		r.endOnly += s.endOnly
		if first || s.startMax > r.startMax {
			r.startMax, r.cores = s.startMax, s.cores
		}
		first = false
		r.end = append(r.end, s.end...)
	}
	return r
}

// why says why a row is noisy, for the `noisy:` lines.
func (ld loads) why() string {
	if ld.cores == 0 {
		return fmt.Sprintf("%d of %d runs recorded no load or no core count", ld.noisy, ld.runs)
	}
	why := fmt.Sprintf("%d of %d runs started above half the cores (highest 1-minute load at a start %.2f, %g cores)",
		ld.noisy, ld.runs, ld.startMax, ld.cores)
	if ld.endOnly > 0 {
		why += fmt.Sprintf("; %d recorded the load only at their end, which stands in for it", ld.endOnly)
	}
	return why
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
// side-by-side table: medians over runs, ratio project/PyTorch, target and
// verdict (noisy when a run started on a loaded machine), then the homework
// section and the summary ratio lines of the items that ran.
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
	t := newTable(lines)
	w := os.Stdout
	wrote := t.print(w, metrics)
	if wrote && len(t.seeds) > 0 {
		fmt.Fprintln(w)
		if t.printSeeds(w) {
			fmt.Fprintln(w)
		}
	}
	if t.values["homework"] != nil {
		if wrote {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "The homework under the seed preset (500 regression and 300 classification trials, 5- and 10-fold CV): the first trials of each study and one fold of each CV measured, the rest extrapolated%s.\n\n", t.homeworkSizes())
		t.print(w, homeworkMetrics)
	}
	// The summary lines, then, in quick mode, exactly the three lines of
	// `make bench-quick` last; a noisy line says so on a line of its own
	// before them.
	var summary []string
	for _, rl := range ratioLines {
		for _, be := range backends {
			if len(t.values[rl.key][be][rl.field]) == 0 {
				continue
			}
			summary = append(summary, t.ratioLine(w, rl.prefix+"_"+be, rl.key, rl.field, be))
		}
	}
	if *quick {
		for _, q := range quickRatios {
			summary = append(summary, t.ratioLine(w, q.name, q.key, q.field, q.backend))
		}
	}
	for _, l := range summary {
		fmt.Fprintln(w, l)
	}
	return nil
}

// backends are the project's sides of a line: a named backend, or "default"
// (the homework item's: each task on its default backend).
var backends = []string{"xla", "go", "default"}

// table holds the measurements by line key and side.
type table struct {
	// values[key][side][field] are the measurements over runs.
	values       map[string]map[string]map[string][]float64
	loads        map[string]map[string]*loads
	extrapolated map[string]map[string]float64
	seeds        map[string]*seedRuns // the seeded items' lines
}

func newTable(lines []map[string]any) *table {
	t := &table{values: map[string]map[string]map[string][]float64{}, loads: map[string]map[string]*loads{},
		extrapolated: map[string]map[string]float64{}, seeds: map[string]*seedRuns{}}
	for _, l := range lines {
		k, s := lineKey(l), sideOf(l)
		if seededItems[k] {
			if t.seeds[k] == nil {
				t.seeds[k] = &seedRuns{}
			}
			t.seeds[k].add(s, l)
		}
		if t.values[k] == nil {
			t.values[k] = map[string]map[string][]float64{}
			t.loads[k] = map[string]*loads{}
			t.extrapolated[k] = map[string]float64{}
		}
		if t.values[k][s] == nil {
			t.values[k][s] = map[string][]float64{}
			t.loads[k][s] = &loads{}
		}
		for field, v := range l {
			if x, ok := number(v); ok {
				t.values[k][s][field] = append(t.values[k][s][field], x)
			}
		}
		t.loads[k][s].add(l)
		if x, ok := number(l["extrapolated_from_steps"]); ok {
			t.extrapolated[k][s] = x
		}
	}
	for k, sr := range t.seeds {
		sr.aggregate(t.values[k])
	}
	return t
}

// seededItems are the items run.sh runs once per seed (REGRESSION_STUDY_SEEDS,
// CLASSIFICATION_STUDY_SEEDS): a study's trials, hence its epochs and time,
// depend on the seed on each side (the 50-trial regression study trained
// 1,316 to 5,188 epochs under Optuna over seeds 0-7), so one seed's ratio
// says more about two trajectories than about the code. Their lines are, per
// side, the sums over the seeds that every side ran of the per-seed medians
// over runs (seedRuns.aggregate).
var seededItems = map[string]bool{"regression_study": true, "classification_study": true}

// seedRuns are the lines of a seeded item by side and seed.
type seedRuns struct {
	lines map[string]map[int][]map[string]any
}

func (sr *seedRuns) add(side string, l map[string]any) {
	if sr.lines == nil {
		sr.lines = map[string]map[int][]map[string]any{}
	}
	if sr.lines[side] == nil {
		sr.lines[side] = map[int][]map[string]any{}
	}
	seed, _ := number(l["seed"])
	sr.lines[side][int(seed)] = append(sr.lines[side][int(seed)], l)
}

// common are the seeds every side ran, in order.
func (sr *seedRuns) common() []int {
	var out []int
	for seed := range sr.lines["pytorch"] {
		all := true
		for _, bySeed := range sr.lines {
			if len(bySeed[seed]) == 0 {
				all = false
			}
		}
		if all {
			out = append(out, seed)
		}
	}
	if len(sr.lines["pytorch"]) == 0 {
		// No PyTorch side: every seed of the project's sides.
		for _, bySeed := range sr.lines {
			for seed := range bySeed {
				if !slices.Contains(out, seed) {
					out = append(out, seed)
				}
			}
		}
	}
	sort.Ints(out)
	return out
}

// seedMedian is the median over a seed's runs of a field of one side.
func (sr *seedRuns) seedMedian(side string, seed int, field string) float64 {
	var xs []float64
	for _, l := range sr.lines[side][seed] {
		if x, ok := number(l[field]); ok {
			xs = append(xs, x)
		}
	}
	return median(xs)
}

// summed are the fields that add up over seeds; the times per epoch are
// recomputed from the sums, the rest is the median over the seeds.
var summed = []string{"seconds", "cpu_s", "epochs_run", "compile_graphs", "compile_s"}

// aggregate replaces the values of every side by one value per field over
// the common seeds (the line's runs then count the seeds).
func (sr *seedRuns) aggregate(values map[string]map[string][]float64) {
	seeds := sr.common()
	for side, fields := range values {
		agg := map[string][]float64{}
		for field := range fields {
			var per []float64
			for _, seed := range seeds {
				if x := sr.seedMedian(side, seed, field); !math.IsNaN(x) {
					per = append(per, x)
				}
			}
			if len(per) == 0 {
				continue
			}
			v := median(per)
			if slices.Contains(summed, field) {
				v = 0
				for _, x := range per {
					v += x
				}
			}
			agg[field] = []float64{v}
		}
		for _, f := range []struct{ out, time string }{{"ms_per_epoch_run", "seconds"}, {"cpu_ms_per_epoch_run", "cpu_s"}} {
			if len(agg[f.time]) == 1 && len(agg["epochs_run"]) == 1 && agg["epochs_run"][0] > 0 {
				agg[f.out] = []float64{1000 * agg[f.time][0] / agg["epochs_run"][0]}
			}
		}
		agg["seeds"] = []float64{float64(len(seeds))}
		values[side] = agg
	}
}

// printSeeds writes, per seeded item, each common seed's wall time and
// epochs on every side with the ratio to PyTorch: the spread behind the sums.
func (t *table) printSeeds(w io.Writer) bool {
	wrote := false
	for _, key := range []string{"regression_study", "classification_study"} {
		sr := t.seeds[key]
		if sr == nil || len(sr.lines["pytorch"]) == 0 {
			continue
		}
		for _, be := range backends {
			if len(sr.lines[be]) == 0 {
				continue
			}
			if !wrote {
				fmt.Fprintln(w, "| study | seed | backend | project wall s (epochs) | PyTorch wall s (epochs) | ratio |")
				fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|")
				wrote = true
			}
			for _, seed := range sr.common() {
				p, py := sr.seedMedian(be, seed, "seconds"), sr.seedMedian("pytorch", seed, "seconds")
				fmt.Fprintf(w, "| %s | %d | %s | %s (%s) | %s (%s) | %s |\n", key, seed, be,
					fmtNum(p), fmtNum(sr.seedMedian(be, seed, "epochs_run")),
					fmtNum(py), fmtNum(sr.seedMedian("pytorch", seed, "epochs_run")), fmtRatio(p/py, false))
			}
		}
	}
	return wrote
}

// ratio is the median project value on a backend over PyTorch's (NaN when a
// side is missing), with the loads of the runs behind it.
func (t *table) ratio(key, field, be string) (float64, loads) {
	pr, py := t.values[key][be], t.values[key]["pytorch"]
	ld := rowLoads(t.loads[key][be], t.loads[key]["pytorch"])
	if pr == nil || py == nil || len(pr[field]) == 0 || len(py[field]) == 0 {
		return math.NaN(), ld
	}
	return median(pr[field]) / median(py[field]), ld
}

// ratioLine is `name=X.XX` (NA without both sides); a noisy one is first
// announced on its own line, so that the ratio line itself never changes.
func (t *table) ratioLine(w io.Writer, name, key, field, be string) string {
	r, ld := t.ratio(key, field, be)
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return name + "=NA"
	}
	if ld.noisy > 0 {
		fmt.Fprintf(w, "noisy: %s: %s\n", name, ld.why())
	}
	return fmt.Sprintf("%s=%.2f", name, r)
}

// homeworkSizes notes the sizes of the homework runs when flags cut them.
func (t *table) homeworkSizes() string {
	var cuts []string
	for _, side := range append([]string{"pytorch"}, backends...) {
		sides := t.values["homework"][side]
		for _, c := range []struct{ field, what string }{{"max_epochs", "epochs capped at %g"}, {"classification_max_epochs", "classification epochs capped at %g"}, {"cv_epochs", "%g-epoch CV folds"}, {"cv_train", "classification CV on %g images"}} {
			if v := median(sides[c.field]); v > 0 {
				cut := fmt.Sprintf(c.what, v)
				if !slices.Contains(cuts, cut) {
					cuts = append(cuts, cut)
				}
			}
		}
	}
	if len(cuts) == 0 {
		return ""
	}
	return " (smaller than the homework: " + strings.Join(cuts, ", ") + ")"
}

// print writes the table of the metrics that have measurements (nothing
// when none has) and says whether it wrote any.
func (t *table) print(w io.Writer, ms []metric) bool {
	header := false
	for _, m := range ms {
		py := t.values[m.key]["pytorch"]
		for _, be := range backends {
			pr := t.values[m.key][be]
			if pr == nil || len(pr[m.field]) == 0 {
				continue
			}
			pv := median(pr[m.field])
			tv := math.NaN()
			if py != nil {
				tv = median(py[m.field])
			}
			name := expandName(m.name, pr, py)
			if m.pytorchMeanStep != "" && math.IsNaN(tv) && py != nil {
				// PyTorch has no compile step and its scripts time whole
				// epochs: compare with its mean step.
				ep, imgs, batch := median(py[m.pytorchMeanStep]), median(py["train_images"]), median(py["batch"])
				tv = ep / math.Ceil(imgs/batch)
				name += " (PyTorch: mean step)"
			}
			ratio := pv / tv
			if n := t.extrapolated[m.key][be]; n > 0 {
				if strings.HasPrefix(m.field, "train_epoch") {
					name += fmt.Sprintf(" (extrapolated from %.0f steps)", n)
				} else if m.quality {
					name += fmt.Sprintf(" (after %.0f steps only)", n)
				}
			}
			ld := rowLoads(t.loads[m.key][be], t.loads[m.key]["pytorch"])
			target := ""
			if tg, ok := m.target[be]; ok {
				target = fmt.Sprintf("<= %g", tg)
			}
			if !header {
				fmt.Fprintln(w, "| benchmark | quantity | backend | project | PyTorch | ratio | target | met | runs | load 1m: start max (end) |")
				fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---|---|---:|")
				header = true
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %d/%d | %s |\n", m.key, name, be,
				fmtNum(pv), fmtNum(tv), fmtRatio(ratio, m.projectOnly), target, verdict(m, be, ratio, ld),
				t.runs(m.key, be, m.field), t.runs(m.key, "pytorch", m.field), fmtLoads(ld))
		}
	}
	return header
}

// runs is the runs column of one side of a line: its measurements, or for a
// seeded item the runs of the seeds it sums.
func (t *table) runs(key, side, field string) int {
	if sr := t.seeds[key]; sr != nil {
		n := 0
		for _, seed := range sr.common() {
			n += len(sr.lines[side][seed])
		}
		return n
	}
	return len(t.values[key][side][field])
}

// verdict is the "met" column: empty without a target, "noisy" when any run
// behind the ratio started on a loaded machine (the noisy rule), else yes,
// no, or ? without a ratio.
func verdict(m metric, be string, ratio float64, ld loads) string {
	tg, ok := m.target[be]
	switch {
	case !ok:
		return ""
	case ld.noisy > 0:
		return "noisy"
	case math.IsNaN(ratio):
		return "?"
	case ratio <= tg:
		return "yes"
	}
	return "**no**"
}

func fmtLoads(ld loads) string {
	if ld.runs == 0 {
		return ""
	}
	end := "?"
	if len(ld.end) > 0 {
		end = fmt.Sprintf("%.1f", median(ld.end))
	}
	if ld.cores == 0 {
		return "? (" + end + ")"
	}
	return fmt.Sprintf("%.1f (%s)", ld.startMax, end)
}

// expandName replaces {field} in a metric's name by the median of that
// field on the project's side (PyTorch's when the project lacks it).
func expandName(name string, pr, py map[string][]float64) string {
	for {
		i := strings.Index(name, "{")
		j := strings.Index(name, "}")
		if i < 0 || j < i {
			return name
		}
		field := name[i+1 : j]
		if field == "seeds" || field == "median" {
			// Said only of a sum or median over seeds.
			n := median(pr["seeds"])
			text := ""
			if n > 1 && field == "seeds" {
				text = fmt.Sprintf(" x %g seeds (sum)", n)
			} else if n > 1 {
				text = " (median over the seeds)"
			}
			name = name[:i] + text + name[j+1:]
			continue
		}
		v := median(pr[field])
		if math.IsNaN(v) && py != nil {
			v = median(py[field])
		}
		s := "?"
		if !math.IsNaN(v) {
			s = fmt.Sprintf("%g", v)
		}
		name = name[:i] + s + name[j+1:]
	}
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
	case math.Abs(x) >= 100 || x == math.Trunc(x):
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
