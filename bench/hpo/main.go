// Command hpo-bench runs lib/hpo's TPE sampler on the test functions of optuna_bench.py and, given
// that script's JSON lines, prints the side-by-side table: median regret over seeds, the ratio
// Go/Optuna, and the sampler time per trial at 100 and at 1,000 trials. The last line is
// worst_regret_ratio=X, the largest per-function ratio. run.sh drives both sides.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
)

// testFunc is an objective with its known optimum.
type testFunc struct {
	name    string
	optimum float64
	f       hpo.Objective
}

func branin(t *hpo.Trial) (float64, error) {
	x1, err := t.SuggestFloat("x1", -5, 10)
	if err != nil {
		return 0, err
	}
	x2, err := t.SuggestFloat("x2", 0, 15)
	if err != nil {
		return 0, err
	}
	b := 5.1 / (4 * (math.Pi * math.Pi))
	c := 5 / math.Pi
	r := 1 / (8 * math.Pi)
	// Written to round as optuna_bench.py does, so that equal parameters give equal values.
	d := x2 - b*(x1*x1) + c*x1 - 6
	return d*d + 10*(1-r)*math.Cos(x1) + 10, nil
}

var hartA = [4][6]float64{
	{10, 3, 17, 3.5, 1.7, 8},
	{0.05, 10, 17, 0.1, 8, 14},
	{3, 3.5, 1.7, 10, 17, 8},
	{17, 8, 0.05, 10, 0.1, 14},
}
var hartP = [4][6]float64{
	{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
	{0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
	{0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
	{0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381},
}
var hartAlpha = [4]float64{1.0, 1.2, 3.0, 3.2}

func hartmann6(t *hpo.Trial) (float64, error) {
	var x [6]float64
	for i := range x {
		v, err := t.SuggestFloat(fmt.Sprintf("x%d", i), 0, 1)
		if err != nil {
			return 0, err
		}
		x[i] = v
	}
	s := 0.0
	for i := 0; i < 4; i++ {
		e := 0.0
		for j := 0; j < 6; j++ {
			d := x[j] - hartP[i][j]
			e += hartA[i][j] * (d * d)
		}
		s += hartAlpha[i] * math.Exp(-e)
	}
	return -s, nil
}

func logSphere10(t *hpo.Trial) (float64, error) {
	s := 0.0
	for i := 0; i < 10; i++ {
		x, err := t.SuggestFloat(fmt.Sprintf("x%d", i), 1e-4, 1e2, hpo.Log())
		if err != nil {
			return 0, err
		}
		d := math.Log10(x) - (float64(i)/3 - 2)
		s += d * d
	}
	return s, nil
}

func mixed(t *hpo.Trial) (float64, error) {
	model, err := t.SuggestCategorical("model", []string{"linear", "quad", "rbf"})
	if err != nil {
		return 0, err
	}
	switch model {
	case "linear":
		a, err := t.SuggestFloat("a", -5, 5)
		return (a-1)*(a-1) + 0.5, err
	case "quad":
		b, err := t.SuggestInt("b", 0, 20)
		if err != nil {
			return 0, err
		}
		c, err := t.SuggestFloat("c", 1e-3, 10, hpo.Log())
		d := float64(b-7) / 5
		e := math.Log10(c) + 1
		return d*d + e*e, err
	default:
		d, err := t.SuggestCategorical("d", []string{"x", "y", "z"})
		if err != nil {
			return 0, err
		}
		e, err := t.SuggestFloat("e", 0, 1)
		pen := 1.0
		if d == "y" {
			pen = 0
		}
		return 0.2 + pen + (e-0.3)*(e-0.3), err
	}
}

var funcs = []testFunc{
	{"branin", 0.397887357729739, branin},
	{"hartmann6", -3.32236801141551, hartmann6},
	{"logsphere10", 0, logSphere10},
	{"mixed", 0, mixed},
}

// optunaLine is one line of optuna_bench.py's output.
type optunaLine struct {
	Func       string   `json:"func"`
	Seed       int      `json:"seed"`
	Best       *float64 `json:"best"`
	Timing     int      `json:"timing"`
	MsPerTrial float64  `json:"ms_per_trial"`
}

// seedRange is 0, 1, ..., n-1.
func seedRange(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
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
	return 0.5 * (s[len(s)/2-1] + s[len(s)/2])
}

// cpuTime is the CPU time used by this process so far. The benchmark measures CPU rather than
// wall time because the machine may be shared; Python's side uses time.process_time likewise.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ratioInterval is a 90% bootstrap interval of median(a)/median(b): with 20 seeds the median
// regret of either side moves a lot from seed set to seed set, and the table should say so.
// When both sides ran the same seeds (a[i] and b[i] from seed i) the seeds are resampled in
// pairs: both samplers draw from the same stream, so a seed is one experiment run twice.
func ratioInterval(a, b []float64, paired bool) (lo, hi float64) {
	if len(a) == 0 || len(b) == 0 {
		return math.NaN(), math.NaN()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ratios := make([]float64, 2000)
	ra, rb := make([]float64, len(a)), make([]float64, len(b))
	for i := range ratios {
		if paired {
			for j := range ra {
				k := rng.IntN(len(a))
				ra[j], rb[j] = a[k], b[k]
			}
		} else {
			for j := range ra {
				ra[j] = a[rng.IntN(len(a))]
			}
			for j := range rb {
				rb[j] = b[rng.IntN(len(b))]
			}
		}
		ratios[i] = median(ra) / median(rb)
	}
	sort.Float64s(ratios)
	return ratios[len(ratios)/20], ratios[len(ratios)*19/20]
}

// timePerTrial runs one study of n trials and returns the mean CPU time per trial (ms) over the
// ten trials ending at trial 100 and at trial n: the functions take microseconds, so this is the
// sampler and storage overhead.
func timePerTrial(f testFunc, n int, multivariate bool) (map[int]float64, error) {
	s := samplers.NewTPE(samplers.WithSeed(0), samplers.WithMultivariate(multivariate))
	study, err := hpo.NewStudy(hpo.WithSampler(s))
	if err != nil {
		return nil, err
	}
	var stamps []time.Duration
	obj := func(t *hpo.Trial) (float64, error) {
		v, err := f.f(t)
		stamps = append(stamps, cpuTime())
		return v, err
	}
	if err := study.Optimize(context.Background(), obj, hpo.NTrials(n)); err != nil {
		return nil, err
	}
	out := map[int]float64{}
	for _, k := range []int{100, n} {
		if k <= len(stamps) && k >= 11 {
			out[k] = float64((stamps[k-1] - stamps[k-11]).Microseconds()) / 10 / 1000
		}
	}
	return out, nil
}

func run() error {
	seeds := flag.Int("seeds", 20, "studies per function")
	trials := flag.Int("trials", 100, "trials per study")
	timing := flag.Int("timing-trials", 1000, "trials of the timing study (0: skip)")
	optunaPath := flag.String("optuna", "", "JSON lines from optuna_bench.py (empty: Go side only)")
	multivariate := flag.Bool("multivariate", false, "use multivariate TPE")
	scaled := flag.Bool("scaled-kernels", false, "TPESampler.ScaleKernelDensity (textbook KDE instead of Optuna 3.1's)")
	only := flag.String("funcs", "", "comma-separated subset of functions")
	flag.Parse()

	refBySeed := map[string]map[int]float64{} // Optuna's best value per function and seed
	refTime := map[string]map[int]float64{}
	if *optunaPath != "" {
		f, err := os.Open(*optunaPath)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			var l optunaLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				return fmt.Errorf("%s line %d: %w", *optunaPath, line, err)
			}
			if l.Best != nil {
				if refBySeed[l.Func] == nil {
					refBySeed[l.Func] = map[int]float64{}
				}
				refBySeed[l.Func][l.Seed] = *l.Best
			} else if l.Timing > 0 {
				if refTime[l.Func] == nil {
					refTime[l.Func] = map[int]float64{}
				}
				refTime[l.Func][l.Timing] = l.MsPerTrial
			}
		}
		if err := sc.Err(); err != nil {
			return err
		}
	}

	fmt.Printf("%-12s %11s %13s %7s %15s %9s %10s %10s %10s %10s\n", "function", "regret_go", "regret_optuna", "ratio", "ratio_90%_boot", "same_best",
		"go_ms@100", "opt_ms@100", fmt.Sprintf("go_ms@%d", *timing), fmt.Sprintf("opt_ms@%d", *timing))
	worst := math.Inf(-1)
	for _, tf := range funcs {
		if *only != "" && !strings.Contains(","+*only+",", ","+tf.name+",") {
			continue
		}
		var regrets []float64
		same := 0 // seeds whose best value is Optuna's best value for the same seed
		for seed := 0; seed < *seeds; seed++ {
			s := samplers.NewTPE(samplers.WithSeed(uint64(seed)), samplers.WithMultivariate(*multivariate), samplers.WithScaleKernelDensity(*scaled))
			study, err := hpo.NewStudy(hpo.WithSampler(s))
			if err != nil {
				return err
			}
			if err := study.Optimize(context.Background(), tf.f, hpo.NTrials(*trials)); err != nil {
				return fmt.Errorf("%s seed %d: %w", tf.name, seed, err)
			}
			best, err := study.BestValue()
			if err != nil {
				return fmt.Errorf("%s seed %d: %w", tf.name, seed, err)
			}
			regrets = append(regrets, best-tf.optimum)
			if b, ok := refBySeed[tf.name][seed]; ok && math.Abs(best-b) <= 1e-9*math.Max(1, math.Abs(b)) {
				same++
			}
		}
		// Optuna's regrets in seed order; paired with ours when both sides ran seeds 0..n-1.
		refSeeds := slices.Sorted(maps.Keys(refBySeed[tf.name]))
		var refRegrets []float64
		for _, seed := range refSeeds {
			refRegrets = append(refRegrets, refBySeed[tf.name][seed]-tf.optimum)
		}
		paired := slices.Equal(refSeeds, seedRange(len(regrets)))
		goMed, refMed := median(regrets), median(refRegrets)
		ratio := goMed / refMed
		if !math.IsNaN(ratio) {
			worst = math.Max(worst, ratio)
		}
		times := map[int]float64{}
		if *timing > 0 {
			var err error
			if times, err = timePerTrial(tf, *timing, *multivariate); err != nil {
				return err
			}
		}
		rt := refTime[tf.name]
		lo, hi := ratioInterval(regrets, refRegrets, paired)
		ms := func(m map[int]float64, n int) string { // "-" where not measured
			if v, ok := m[n]; ok && n > 0 {
				return fmt.Sprintf("%.3f", v)
			}
			return "-"
		}
		fmt.Printf("%-12s %11.4g %13.4g %7.3f %15s %9s %10s %10s %10s %10s\n", tf.name, goMed, refMed, ratio,
			fmt.Sprintf("[%.2f, %.2f]", lo, hi), fmt.Sprintf("%d/%d", same, len(refBySeed[tf.name])),
			ms(times, 100), ms(rt, 100), ms(times, *timing), ms(rt, *timing))
	}
	fmt.Printf("worst_regret_ratio=%.3f\n", worst)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hpo-bench:", err)
		os.Exit(1)
	}
}
