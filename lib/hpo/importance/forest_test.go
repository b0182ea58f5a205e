package importance

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// uniformTrials draws n rows uniformly inside params' bounds.
func uniformTrials(rng *rand.Rand, n int, params []Param) [][]float64 {
	X := make([][]float64, n)
	for i := range X {
		X[i] = make([]float64, len(params))
		for p, prm := range params {
			if prm.Categories > 0 {
				X[i][p] = float64(rng.IntN(prm.Categories))
			} else {
				X[i][p] = prm.Low + rng.Float64()*(prm.High-prm.Low)
			}
		}
	}
	return X
}

// fitTrees fits a forest on (X, y) and keeps every tree.
func fitTrees(t *testing.T, X [][]float64, y []float64, params []Param, opts Options) (*encoded, []*tree) {
	t.Helper()
	opts, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	e, err := encode(X, y, params, opts.LogSpace)
	if err != nil {
		t.Fatal(err)
	}
	trees := make([]*tree, opts.Trees)
	if err := fitForest(e, opts, func(i int, tr *tree) error { trees[i] = tr; return nil }); err != nil {
		t.Fatal(err)
	}
	return e, trees
}

func forestPredict(trees []*tree, x []float64) float64 {
	var s float64
	for _, tr := range trees {
		s += tr.predict(x)
	}
	return s / float64(len(trees))
}

func TestForestFitsStepFunction(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	params := []Param{{Name: "a", Low: 0, High: 1}, {Name: "b", Low: 0, High: 1}}
	X := uniformTrials(rng, 300, params)
	y := make([]float64, len(X))
	for i, row := range X {
		if row[0] > 0.6 {
			y[i] = 1
		}
	}
	_, trees := fitTrees(t, X, y, params, Options{Seed: 3})
	for _, tr := range trees {
		// The step is the only structure: every tree's first split must find it,
		// between the two trials closest to 0.6 on either side.
		root := tr.nodes[0]
		if root.feature != 0 || math.Abs(root.threshold-0.6) > 0.02 {
			t.Fatalf("root split on column %d at %.3f, want column 0 near 0.6", root.feature, root.threshold)
		}
	}
	for _, x0 := range []float64{0.05, 0.3, 0.55, 0.65, 0.9} {
		for _, x1 := range []float64{0.1, 0.5, 0.9} {
			want := 0.0
			if x0 > 0.6 {
				want = 1
			}
			if got := forestPredict(trees, []float64{x0, x1}); math.Abs(got-want) > 1e-9 {
				t.Errorf("forest(%g, %g) = %g, want %g", x0, x1, got, want)
			}
		}
	}
}

func TestForestLeavesArePureWithoutDepthLimit(t *testing.T) {
	// With min_samples_leaf 1 and no depth limit, each tree reproduces its
	// bootstrap sample exactly (distinct inputs), as scikit-learn's does.
	rng := rand.New(rand.NewPCG(4, 5))
	params := []Param{{Name: "a", Low: -1, High: 1}, {Name: "b", Low: 0, High: 5}}
	X := uniformTrials(rng, 200, params)
	y := make([]float64, len(X))
	for i, row := range X {
		y[i] = math.Sin(3*row[0]) + row[1]*row[1] + 0.1*rng.NormFloat64()
	}
	e, trees := fitTrees(t, X, y, params, Options{Trees: 8, Seed: 1})
	var inSample int
	for _, tr := range trees {
		for i := 0; i < e.n; i++ {
			got := tr.predict(e.x[i*e.cols : (i+1)*e.cols])
			if got == y[i] {
				inSample++
			}
		}
	}
	// A bootstrap sample holds about 63% of the rows; those must be fitted exactly.
	if frac := float64(inSample) / float64(8*e.n); frac < 0.55 || frac > 0.72 {
		t.Errorf("%.2f of (tree, trial) pairs predicted exactly, want about 0.63", frac)
	}
}

func TestMaxDepthAndMinSamplesLeaf(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	params := []Param{{Name: "a", Low: 0, High: 1}, {Name: "b", Low: 0, High: 1}}
	X := uniformTrials(rng, 200, params)
	y := make([]float64, len(X))
	for i, row := range X {
		y[i] = row[0] + row[1]*rng.Float64()
	}
	_, trees := fitTrees(t, X, y, params, Options{Trees: 4, MaxDepth: 3, MinSamplesLeaf: 5, Seed: 2})
	for _, tr := range trees {
		if len(tr.nodes) > 15 {
			t.Errorf("tree of depth <= 3 has %d nodes", len(tr.nodes))
		}
	}
	e, trees := fitTrees(t, X, y, params, Options{Trees: 4, MinSamplesLeaf: 5, Seed: 2})
	for _, tr := range trees {
		counts := make([]int, len(tr.nodes))
		for i := 0; i < e.n; i++ {
			// Count distinct trials per leaf, in-bag or not: at least the in-bag ones.
			x := e.x[i*e.cols : (i+1)*e.cols]
			j := 0
			for tr.nodes[j].feature >= 0 {
				if x[tr.nodes[j].feature] <= tr.nodes[j].threshold {
					j = tr.nodes[j].left
				} else {
					j = tr.nodes[j].right
				}
			}
			counts[j]++
		}
		for j, nd := range tr.nodes {
			if nd.feature < 0 && counts[j] < 5 {
				t.Errorf("leaf %d holds %d trials, want >= 5", j, counts[j])
			}
		}
	}
}

func TestIrrelevantColumnGetsNearZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	params := []Param{
		{Name: "signal", Low: 0, High: 1},
		{Name: "noise", Low: 0, High: 1},
		{Name: "choice", Categories: 3},
		{Name: "unused_choice", Categories: 4},
	}
	X := uniformTrials(rng, 400, params)
	y := make([]float64, len(X))
	for i, row := range X {
		y[i] = 4*row[0]*row[0] + []float64{0, 1, 0.5}[int(row[2])]
	}
	fanova, err := FANOVA(X, y, params, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	mdi, err := MeanDecreaseImpurity(X, y, params, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, imp := range map[string][]float64{"fanova": fanova, "mdi": mdi} {
		if math.Abs(imp[0]+imp[1]+imp[2]+imp[3]-1) > 1e-12 {
			t.Errorf("%s importances %v do not sum to 1", name, imp)
		}
		if imp[1] > 0.01 || imp[3] > 0.01 {
			t.Errorf("%s: irrelevant columns got %.4f and %.4f, want < 0.01 (all: %.4f)", name, imp[1], imp[3], imp)
		}
		// Var(4a²) over a~U(0,1) is 16·4/45 ≈ 1.42; the choice's variance is 1/6.
		if imp[0] < 0.75 || imp[2] < 0.05 {
			t.Errorf("%s: signal %.3f, choice %.3f, want about 0.9 and 0.1", name, imp[0], imp[2])
		}
	}
}

// TestMarginalVarianceByHand checks the fANOVA arithmetic on hand-built
// trees against values worked out on paper.
func TestMarginalVarianceByHand(t *testing.T) {
	// Unit square. Split a at 0.5: left leaf 0; right splits b at 0.5 into 1 and 3.
	// Leaf volumes 1/2, 1/4, 1/4: mean 1, total variance 1/2·1 + 1/4·0 + 1/4·4 = 1.5.
	// Marginal over a: 0 on [0, .5], 2 on [.5, 1]: variance 1.
	// Marginal over b: (0+1)/2 on [0, .5], (0+3)/2 on [.5, 1]: variance 0.25.
	e := &encoded{cols: 2, lo: []float64{0, 0}, hi: []float64{1, 1}, groups: [][]int{{0}, {1}}}
	tr := &tree{nodes: []node{
		{feature: 0, threshold: 0.5, left: 1, right: 2},
		{feature: -1, value: 0},
		{feature: 1, threshold: 0.5, left: 3, right: 4},
		{feature: -1, value: 1},
		{feature: -1, value: 3},
	}}
	got := make([]float64, 2)
	if err := tr.varianceFractions(e, got); err != nil {
		t.Fatal(err)
	}
	want := []float64{1 / 1.5, 0.25 / 1.5}
	for p := range want {
		if math.Abs(got[p]-want[p]) > 1e-12 {
			t.Errorf("fraction of column %d = %.6f, want %.6f", p, got[p], want[p])
		}
	}

	// A three-choice parameter (one-hot columns 0-2) and a number x on [0, 4]
	// (column 3). Split c0 at .5; its left side splits c1 at .5 into leaves 0
	// and 2, its right side splits x at 1 into 8 (x <= 1) and 4. Leaf volumes
	// 1, 1, .5, 1.5 of 4: mean 3, total variance 9/4 + 1/4 + 25/8 + 3/8 = 6.
	// Marginal over the choice: the (c0, c1) grid has 4 equal cells with
	// values 0, 2, (8·1+4·3)/4 = 5, 5: variance 4.5.
	// Marginal over x: 0/4+2/4+8/2 = 4.5 on [0, 1], 2.5 on [1, 4]: variance 0.75.
	e = &encoded{cols: 4, lo: []float64{0, 0, 0, 0}, hi: []float64{1, 1, 1, 4}, groups: [][]int{{0, 1, 2}, {3}}}
	tr = &tree{nodes: []node{
		{feature: 0, threshold: 0.5, left: 1, right: 2},
		{feature: 1, threshold: 0.5, left: 3, right: 4},
		{feature: 3, threshold: 1, left: 5, right: 6},
		{feature: -1, value: 0},
		{feature: -1, value: 2},
		{feature: -1, value: 8},
		{feature: -1, value: 4},
	}}
	if err := tr.varianceFractions(e, got); err != nil {
		t.Fatal(err)
	}
	want = []float64{4.5 / 6, 0.75 / 6}
	for p := range want {
		if math.Abs(got[p]-want[p]) > 1e-12 {
			t.Errorf("one-hot case: fraction of param %d = %.6f, want %.6f", p, got[p], want[p])
		}
	}
}

func TestSameSeedSameImportances(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	params := []Param{{Name: "a", Low: 0, High: 1}, {Name: "b", Low: 1e-4, High: 1, Log: true}, {Name: "c", Categories: 2}}
	X := uniformTrials(rng, 100, params)
	y := make([]float64, len(X))
	for i, row := range X {
		y[i] = row[0] + math.Log(row[1]) + row[2] + 0.1*rng.NormFloat64()
	}
	a, err := FANOVA(X, y, params, Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := FANOVA(X, y, params, Options{Seed: 5})
	c, _ := FANOVA(X, y, params, Options{Seed: 6})
	for p := range a {
		if a[p] != b[p] {
			t.Fatalf("same seed, different importances: %v vs %v", a, b)
		}
	}
	if a[0] == c[0] && a[1] == c[1] {
		t.Errorf("seeds 5 and 6 gave identical importances %v", a)
	}
	// In log space b is linear, spread evenly: it must then matter more than
	// in raw space, where most of [1e-4, 1] lies where log(b) is flat.
	logSpace, err := FANOVA(X, y, params, Options{Seed: 5, LogSpace: true})
	if err != nil {
		t.Fatal(err)
	}
	if logSpace[1] <= a[1] {
		t.Errorf("log-scaled b: importance %.3f in log space, %.3f in raw space; want more in log space", logSpace[1], a[1])
	}
}

func TestSingleValuedParamsAndNonFiniteValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	params := []Param{{Name: "fixed", Low: 2, High: 2}, {Name: "a", Low: 0, High: 1}, {Name: "one_choice", Categories: 1}, {Name: "b", Low: 0, High: 1}}
	X := uniformTrials(rng, 80, params)
	y := make([]float64, len(X))
	for i, row := range X {
		y[i] = row[1] + 0.2*row[3]
	}
	y[3], y[7] = math.NaN(), math.Inf(1) // Optuna leaves such trials out
	for name, eval := range map[string]evaluator{"fanova": FANOVA, "mdi": MeanDecreaseImpurity} {
		imp, err := eval(X, y, params, Options{Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if imp[0] != 0 || imp[2] != 0 || imp[1] < imp[3] || imp[3] == 0 {
			t.Errorf("%s: %v, want 0 for the single-valued params and a > b > 0", name, imp)
		}
	}
}

func TestBadInputIsAnError(t *testing.T) {
	params := []Param{{Name: "a", Low: 0, High: 1}, {Name: "c", Categories: 3}}
	good := [][]float64{{0.1, 0}, {0.5, 2}, {0.9, 1}}
	cases := []struct {
		name   string
		X      [][]float64
		y      []float64
		params []Param
		opts   Options
		want   string
	}{
		{"row count", good, []float64{1, 2}, params, Options{}, "3 rows but y has 2"},
		{"row width", [][]float64{{0.1}, {0.2, 0}}, []float64{1, 2}, params, Options{}, "row 0 has 1 values"},
		{"out of bounds", [][]float64{{1.5, 0}, {0.2, 0}}, []float64{1, 2}, params, Options{}, `"a"): 1.5 is outside`},
		{"bad choice", [][]float64{{0.5, 3}, {0.2, 0}}, []float64{1, 2}, params, Options{}, `"c"): 3 is not a choice`},
		{"fractional choice", [][]float64{{0.5, 0.5}, {0.2, 0}}, []float64{1, 2}, params, Options{}, "not a choice"},
		{"one trial", good[:1], []float64{1}, params, Options{}, "need at least 2"},
		{"NaN values", good, []float64{math.NaN(), 1, math.NaN()}, params, Options{}, "1 trials with a finite value"},
		{"inverted bounds", good, []float64{1, 2, 3}, []Param{{Name: "a", Low: 1, High: 0}, params[1]}, Options{}, "Low = 1 > High = 0"},
		{"negative trees", good, []float64{1, 2, 3}, params, Options{Trees: -1}, "Trees = -1"},
		{"min split 1", good, []float64{1, 2, 3}, params, Options{MinSamplesSplit: 1}, "MinSamplesSplit = 1"},
		{"log of zero", good, []float64{1, 2, 3}, []Param{{Name: "a", Low: 0, High: 1, Log: true}, params[1]}, Options{LogSpace: true}, "Low = 0 <= 0"},
	}
	for _, c := range cases {
		for name, eval := range map[string]evaluator{"fanova": FANOVA, "mdi": MeanDecreaseImpurity} {
			_, err := eval(c.X, c.y, c.params, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %s: error %v, want one containing %q", name, c.name, err, c.want)
			}
		}
	}
	// Constant values: Optuna's fANOVA raises, scikit-learn's MDI gives zeros.
	flat := []float64{2, 2, 2}
	if _, err := FANOVA(good, flat, params, Options{}); err == nil {
		t.Error("fanova on constant values: no error")
	}
	imp, err := MeanDecreaseImpurity(good, flat, params, Options{})
	if err != nil || imp[0] != 0 || imp[1] != 0 {
		t.Errorf("mdi on constant values: %v, %v; want zeros", imp, err)
	}
}

// benchTrials is the size the package aims at: 500 trials of 10 parameters
// (7 numerical, 3 categorical with 3 choices: 16 forest columns).
func benchTrials() ([][]float64, []float64, []Param) {
	rng := rand.New(rand.NewPCG(20, 21))
	params := make([]Param, 10)
	for p := range params {
		params[p] = Param{Name: string(rune('a' + p)), Low: 0, High: 1}
		if p >= 7 {
			params[p] = Param{Name: string(rune('a' + p)), Categories: 3}
		}
	}
	X := uniformTrials(rng, 500, params)
	y := make([]float64, len(X))
	for i, r := range X {
		y[i] = 3*r[0] + math.Sin(6*r[1]) + r[2]*r[3] + 0.3*r[7] + 0.1*rng.NormFloat64()
	}
	return X, y, params
}

func BenchmarkFANOVA(b *testing.B) {
	X, y, params := benchTrials()
	cpu := processCPUTime()
	for b.Loop() {
		if _, err := FANOVA(X, y, params, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

func BenchmarkMeanDecreaseImpurity(b *testing.B) {
	X, y, params := benchTrials()
	cpu := processCPUTime()
	for b.Loop() {
		if _, err := MeanDecreaseImpurity(X, y, params, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// reportCPU adds the CPU time per operation since start, all threads together.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(processCPUTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
