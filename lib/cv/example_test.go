package cv_test

import (
	"context"
	"fmt"
	"log"
	"math"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/pruners"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
	"github.com/dlworkbench/hw1/lib/nn"
)

// Example_study is the library used from another Go program, as the
// README's "Using it from Go" shows it (readme_test.go checks that the two
// are the same text): a small study of an MLP's learning rate and width with
// the median pruner, then a 3-fold cross-validation of the best one, scored
// on the test set. The data come from $HW1_DATA_DIR (or the cache).
func Example_study() {
	be := backend.Go() // or backend.New(""): XLA when a plugin is installed, else pure Go
	train, test, err := data.LoadRegression(data.Options{})
	if err != nil {
		log.Fatal(err)
	}
	all, testSet := nn.FromCSV(train), nn.FromCSV(test)
	trainIdx, valIdx, _ := data.Holdout(all.Len(), 0.2, 1)
	fitSet, _ := all.Subset(trainIdx)
	valSet, _ := all.Subset(valIdx)

	study, err := hpo.NewStudy(hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1))), hpo.WithPruner(pruners.NewMedian()))
	if err != nil {
		log.Fatal(err)
	}
	hp := nn.Hyperparameters{Epochs: 20, BatchSize: 10, Optimizer: nn.OptimizerAdam}
	valLoss := func(s nn.EpochStats) float64 { return s.ValLoss }
	err = study.Optimize(context.Background(), func(t *hpo.Trial) (float64, error) {
		lr, _ := t.SuggestFloat("lr", 1e-4, 1e-2, hpo.Log())
		units, _ := t.SuggestInt("units", 16, 64)
		m, err := nn.New(be.Backend, nn.MLP([]int{units}, nil, nn.ActivationReLU), int64(t.Number()))
		if err != nil {
			return 0, err
		}
		h := hp
		h.LearningRate = lr
		hist, err := nn.Fit(m, fitSet, valSet, h, nn.Options{Seed: int64(t.Number()),
			Callbacks: []nn.Callback{nn.PruneWith(t, valLoss)}, Progress: nn.ProgressOff})
		if err != nil {
			return math.NaN(), err
		}
		if hist.Pruned {
			return valLoss(hist.Last()), hpo.ErrPruned
		}
		return valLoss(hist.Last()), nil
	}, hpo.NTrials(8))
	if err != nil {
		log.Fatal(err)
	}
	best, err := study.BestParams()
	if err != nil {
		log.Fatal(err)
	}
	hp.LearningRate = best["lr"].(float64)
	spec := nn.MLP([]int{best["units"].(int)}, nil, nn.ActivationReLU)

	res, err := cv.Run(be.Backend, cv.Config{Spec: spec, Hyperparameters: hp, Folds: 3, Seed: 1, Progress: nn.ProgressOff}, all)
	if err != nil {
		log.Fatal(err)
	}
	if err := res.Evaluate(testSet); err != nil {
		log.Fatal(err)
	}
	_, mse, err := res.EnsembleRegression(testSet)
	if err != nil {
		log.Fatal(err)
	}
	trials, _ := study.Trials()
	fmt.Println("trials:", len(trials))
	fmt.Println("folds:", len(res.Folds))
	fmt.Println("ensemble test MSE is finite:", !math.IsNaN(mse) && !math.IsInf(mse, 0))
	// Output:
	// trials: 8
	// folds: 3
	// ensemble test MSE is finite: true
}
