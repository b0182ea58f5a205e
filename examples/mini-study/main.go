// Command ministudy is a program outside hw1 that uses only its exported
// API: a small hyperparameter study with pruning (lib/hpo's TPE sampler and
// median pruner, through nn.PruneWith), a 3-fold cross-validation of the best
// model (lib/cv), and four figures (lib/figures, one call each from the
// study, the CV result and a model) written to -out, on the
// regression dataset (lib/data.LoadRegression: $HW1_DATA_DIR, the cache, or
// a download). The budgets are tiny: it runs in seconds.
//
//	go run . -out /tmp/ministudy
//
// It lives in its own module (go.mod: module example.com/ministudy, with a
// replace of github.com/dlworkbench/hw1 by this clone), as any other program
// would, and converts none of hw1's values itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/figures"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/pruners"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

func main() {
	out := flag.String("out", "ministudy_results", "folder for the figures")
	trials := flag.Int("trials", 10, "trials of the study")
	epochs := flag.Int("epochs", 20, "epochs of each model")
	dataDir := flag.String("data-dir", "", "folder with the regression CSVs (default $HW1_DATA_DIR, then the cache)")
	flag.Parse()
	if err := run(*out, *dataDir, *trials, *epochs); err != nil {
		log.Fatal(err)
	}
}

func run(out, dataDir string, trials, epochs int) error {
	be := backend.Go() // the small MLPs are fastest on the pure-Go backend
	train, test, err := data.LoadRegression(data.Options{Dir: dataDir})
	if err != nil {
		return err
	}
	all, testSet := nn.FromCSV(train), nn.FromCSV(test)
	fitIdx, valIdx, err := data.Holdout(all.Len(), 0.2, 1)
	if err != nil {
		return err
	}
	fitSet, _ := all.Subset(fitIdx)
	valSet, _ := all.Subset(valIdx)

	// The study: TPE, and the median pruner after 3 complete trials.
	study, err := hpo.NewStudy(hpo.WithName("mini"), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1))),
		hpo.WithPruner(pruners.NewMedian(pruners.WithNStartupTrials(3))))
	if err != nil {
		return err
	}
	hp := nn.Hyperparameters{Epochs: epochs, BatchSize: 10, Optimizer: nn.OptimizerAdam}
	valLoss := func(s nn.EpochStats) float64 { return s.ValLoss }
	objective := func(t *hpo.Trial) (float64, error) {
		lr, _ := t.SuggestFloat("lr", 1e-3, 3e-2, hpo.Log())
		units, _ := t.SuggestInt("units", 8, 64)
		m, err := nn.New(be.Backend, nn.MLP([]int{units, units}, nil, nn.ActivationReLU), int64(t.Number()))
		if err != nil {
			return math.NaN(), err
		}
		h := hp
		h.LearningRate = lr
		hist, err := nn.Fit(m, fitSet, valSet, h, nn.Options{Seed: int64(t.Number()), Progress: nn.ProgressOff,
			Callbacks: []nn.Callback{nn.PruneWith(t, valLoss)}})
		if err != nil {
			return math.NaN(), err
		}
		if hist.Pruned {
			return valLoss(hist.Last()), hpo.ErrPruned
		}
		return valLoss(hist.Last()), nil
	}
	if err := study.Optimize(context.Background(), objective, hpo.NTrials(trials)); err != nil {
		return err
	}
	best, err := study.BestParams()
	if err != nil {
		return err
	}
	frozen, err := study.Trials()
	if err != nil {
		return err
	}

	// 3-fold cross-validation of the best model, scored on the test set.
	hp.LearningRate = best["lr"].(float64)
	units := best["units"].(int)
	res, err := cv.Run(be.Backend, cv.Config{Spec: nn.MLP([]int{units, units}, nil, nn.ActivationReLU),
		Hyperparameters: hp, Folds: 3, Seed: 1, Progress: nn.ProgressOff}, all)
	if err != nil {
		return err
	}
	if err := res.Evaluate(testSet); err != nil {
		return err
	}
	_, mse, err := res.EnsembleRegression(testSet)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// Four figures, each one call from the library's own values.
	history, err := figures.OptimizationHistory(study, figures.Objective("validation loss"))
	if err != nil {
		return err
	}
	intermediate, err := figures.IntermediateValues(study, figures.Objective("validation loss"))
	if err != nil {
		return err
	}
	losses, err := figures.Losses(res)
	if err != nil {
		return err
	}
	hist, err := figures.Weights(res.Folds[res.Best()].Model)
	if err != nil {
		return err
	}
	for _, f := range []*plot.Figure{history, intermediate, losses, hist} {
		if err := f.Save(out); err != nil {
			return err
		}
	}

	pruned := 0
	for _, t := range frozen {
		if t.State == hpo.Pruned {
			pruned++
		}
	}
	fmt.Printf("study: %d trials (%d pruned), best lr %.4g, units %d\n", len(frozen), pruned, hp.LearningRate, units)
	fmt.Printf("3-fold CV: ensemble test MSE %.4f\n", mse)
	for _, f := range []*plot.Figure{history, intermediate, losses, hist} {
		fmt.Printf("wrote %s/%s.png and .svg\n", out, f.Name)
	}
	return nil
}
