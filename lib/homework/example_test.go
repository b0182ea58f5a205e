package homework_test

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

// Example shows the library used from another Go program: a small study of
// an MLP's learning rate and width, then a 3-fold cross-validation of the best
// one scored on the test set. The data come from $HW1_DATA_DIR (or the cache).
func Example() {
	train, test, err := data.LoadRegression(data.Options{})
	if err != nil {
		log.Fatal(err)
	}
	be, err := backend.New("go")
	if err != nil {
		log.Fatal(err)
	}
	trainIdx, valIdx, _ := data.Holdout(train.Len(), 0.2, 1)
	all := nn.FromCSV(train)
	fitSet, _ := all.Subset(trainIdx)
	valSet, _ := all.Subset(valIdx)

	study, err := hpo.NewStudy(hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1))), hpo.WithPruner(pruners.NewMedian()))
	if err != nil {
		log.Fatal(err)
	}
	hp := nn.Hyperparameters{Epochs: 30, BatchSize: 10, Optimizer: "Adam"}
	objective := func(t *hpo.Trial) (float64, error) {
		lr, _ := t.SuggestFloat("lr", 1e-4, 1e-2, hpo.Log())
		units, _ := t.SuggestInt("units", 16, 64)
		model, err := nn.New(be.Backend, nn.MLP([]int{units}, nil, "relu"), int64(t.Number()))
		if err != nil {
			return 0, err
		}
		h := hp
		h.LearningRate = lr
		hist, err := nn.Fit(model, fitSet, valSet, h, nn.Options{Progress: nn.ProgressOff})
		if err != nil {
			return 0, err
		}
		return hist.Epochs[len(hist.Epochs)-1].ValLoss, nil
	}
	if err := study.Optimize(context.Background(), objective, hpo.NTrials(6)); err != nil {
		log.Fatal(err)
	}
	best, _ := study.BestParams()
	hp.LearningRate = best["lr"].(float64)

	res, err := cv.Run(be.Backend, cv.Config{Spec: nn.MLP([]int{best["units"].(int)}, nil, "relu"),
		Hyperparameters: hp, Folds: 3, Seed: 1, Progress: nn.ProgressOff}, all)
	if err != nil {
		log.Fatal(err)
	}
	if err := res.Evaluate(nn.FromCSV(test)); err != nil {
		log.Fatal(err)
	}
	_, mse, _ := res.EnsembleRegression(nn.FromCSV(test))
	trials, _ := study.Trials()
	fmt.Println("trials:", len(trials))
	fmt.Println("folds:", len(res.Folds))
	fmt.Println("ensemble test MSE is finite:", !math.IsNaN(mse) && !math.IsInf(mse, 0))
	// Output:
	// trials: 6
	// folds: 3
	// ensemble test MSE is finite: true
}
