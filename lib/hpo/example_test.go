package hpo_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/journal"
	"github.com/dlworkbench/hw1/lib/hpo/pruners"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
)

// A define-by-run objective with a conditional parameter, intermediate values and pruning, on a
// study that resumes from a journal file.
func Example() {
	dir, _ := os.MkdirTemp("", "hpo-example")
	defer os.RemoveAll(dir)
	j, err := journal.Open(filepath.Join(dir, "study.jsonl"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer j.Close()
	study, err := hpo.NewStudy(hpo.WithName("demo"), hpo.WithStorage(j),
		hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(42))), hpo.WithPruner(pruners.NewMedian()))
	if err != nil {
		fmt.Println(err)
		return
	}
	objective := func(t *hpo.Trial) (float64, error) {
		lr, err := t.SuggestFloat("lr", 1e-4, 1e-1, hpo.Log())
		if err != nil {
			return 0, err
		}
		opt, err := t.SuggestCategorical("optimizer", []string{"adam", "sgd"})
		if err != nil {
			return 0, err
		}
		momentum := 0.0
		if opt == "sgd" { // conditional parameter
			if momentum, err = t.SuggestFloat("momentum", 0, 0.99); err != nil {
				return 0, err
			}
		}
		loss := 0.0
		for epoch := 0; epoch < 10; epoch++ {
			loss = math.Pow(math.Log10(lr)+2.5, 2) + (1-momentum)/4 + 1/float64(epoch+1)
			t.Report(epoch, loss)
			if t.ShouldPrune() {
				return 0, hpo.ErrPruned
			}
		}
		return loss, nil
	}
	best := math.Inf(1)
	newBest := func(_ *hpo.Study, t hpo.FrozenTrial) { // an Optuna-style callback
		if t.State == hpo.Complete && t.Value < best {
			best = t.Value
		}
	}
	if err := study.Optimize(context.Background(), objective, hpo.NTrials(30), hpo.Callbacks(newBest)); err != nil {
		fmt.Println(err)
		return
	}
	st, _ := study.Stats()
	fmt.Println("finished:", st.Finished, "pruned+complete:", st.Pruned+st.Complete, "best seen by the callback:", best == *st.BestValue)
	// Output:
	// finished: 30 pruned+complete: 30 best seen by the callback: true
}
