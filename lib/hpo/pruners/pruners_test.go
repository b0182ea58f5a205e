package hpo

import (
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"
)

// TestMedianPrunerParity replays the learning curves of real Optuna studies (see
// testdata/median_parity.py) into PercentilePruner(50) and requires Optuna's decision at every
// reported step.
func TestMedianPrunerParity(t *testing.T) {
	raw, err := os.ReadFile("testdata/median_parity.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Name      string
			Direction Direction
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
				State     TrialState
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
			p := NewMedianPruner()
			p.NStartupTrials = c.Pruner.NStartupTrials
			p.NWarmupSteps = c.Pruner.NWarmupSteps
			p.IntervalSteps = c.Pruner.IntervalSteps
			p.NMinTrials = c.Pruner.NMinTrials
			var history []FrozenTrial
			decisions, pruned := 0, 0
			for _, gt := range c.Trials {
				ft := newFrozenTrial(gt.Number, Running, nil, time.Time{})
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
