package pruners

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/dlworkbench/hw1/lib/hpo"
)

// TestMedianPrunerParity replays the learning curves of real Optuna studies (see
// testdata/median_parity.py) into PercentilePruner(50) and requires Optuna's decision at every
// reported step.
func TestMedianPrunerParity(t *testing.T) {
	raw, err := os.ReadFile("../testdata/median_parity.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Name      string
			Direction hpo.Direction
			Pruner    struct {
				NStartupTrials int `json:"n_startup_trials"`
				NWarmupSteps   int `json:"n_warmup_steps"`
				IntervalSteps  int `json:"interval_steps"`
				NMinTrials     int `json:"n_min_trials"`
			}
			Trials []struct {
				Number    int
				Values    []float64
				Steps     []int
				Decisions []bool
				State     hpo.TrialState
			}
		}
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) == 0 {
		t.Fatal("no cases in golden file")
	}
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			p := NewMedian(WithNStartupTrials(c.Pruner.NStartupTrials), WithNWarmupSteps(c.Pruner.NWarmupSteps),
				WithIntervalSteps(c.Pruner.IntervalSteps), WithNMinTrials(c.Pruner.NMinTrials))
			var history []hpo.FrozenTrial
			decisions, pruned := 0, 0
			for _, gt := range c.Trials {
				ft := runningTrial(gt.Number)
				for i, step := range gt.Steps {
					ft.Intermediate[step] = gt.Values[i]
					got := p.decide(c.Direction, history, ft)
					if got != gt.Decisions[i] {
						t.Fatalf("trial %d step %d: Go prunes=%v, Optuna prunes=%v", gt.Number, step, got, gt.Decisions[i])
					}
					decisions++
					if got {
						pruned++
					}
				}
				ft.State = gt.State
				ft.Value = ft.Intermediate[ft.LastStep()]
				history = append(history, *ft)
			}
			if pruned == 0 || pruned == len(c.Trials) {
				t.Fatalf("case prunes %d of %d trials: the golden data no longer tests both outcomes", pruned, len(c.Trials))
			}
			t.Logf("%d decisions (%d prunes) match Optuna", decisions, pruned)
		})
	}
}

func TestNanPercentile(t *testing.T) {
	// numpy: np.nanpercentile([3, 1, nan, 2, 10], 25) == 1.75
	if got := nanPercentile([]float64{3, 1, math.NaN(), 2, 10}, 25); math.Abs(got-1.75) > 1e-12 {
		t.Fatalf("nanPercentile = %v, want 1.75", got)
	}
}

func TestSuccessiveHalvingPrunes(t *testing.T) {
	s, _ := hpo.NewStudy(hpo.WithSeed(2), hpo.WithPruner(NewSuccessiveHalving()))
	obj := func(tr *hpo.Trial) (float64, error) {
		x, _ := tr.SuggestFloat("x", 0, 1)
		for step := 0; step < 20; step++ {
			tr.Report(step, x+1/float64(step+1))
			if tr.ShouldPrune() {
				return 0, hpo.ErrPruned
			}
		}
		return x, nil
	}
	if err := s.Optimize(context.Background(), obj, hpo.NTrials(30)); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Stats()
	if st.Pruned == 0 || st.Complete == 0 {
		t.Fatalf("successive halving: %d pruned, %d complete; want both", st.Pruned, st.Complete)
	}
}

func runningTrial(number int) *hpo.FrozenTrial {
	return &hpo.FrozenTrial{Number: number, State: hpo.Running, Value: math.NaN(), Params: map[string]float64{},
		Distributions: map[string]hpo.Distribution{}, Intermediate: map[int]float64{}, SystemAttrs: map[string]float64{}}
}

// TestOptionsConfigure: the constructors' options reach the rule (warm-up, start-up trials).
func TestOptionsConfigure(t *testing.T) {
	var done []hpo.FrozenTrial
	for i := 0; i < 5; i++ {
		c := *runningTrial(i)
		c.State, c.Value = hpo.Complete, 1
		for s := 0; s < 4; s++ {
			c.Intermediate[s] = 1
		}
		done = append(done, c)
	}
	bad := runningTrial(5)
	prunesAt := func(p *PercentilePruner) int {
		for s := 0; s < 4; s++ {
			bad.Intermediate[s] = 10
			if p.decide(hpo.Minimize, done, bad) {
				return s
			}
		}
		return -1
	}
	if got := prunesAt(NewMedian()); got != 0 {
		t.Fatalf("NewMedian() prunes at step %d, want 0", got)
	}
	bad = runningTrial(5)
	if got := prunesAt(NewMedian(WithNWarmupSteps(2))); got != 2 {
		t.Fatalf("WithNWarmupSteps(2) prunes at step %d, want 2", got)
	}
	bad = runningTrial(5)
	if got := prunesAt(NewMedian(WithNStartupTrials(6))); got != -1 {
		t.Fatalf("WithNStartupTrials(6) with 5 complete trials prunes at step %d, want never", got)
	}
}
