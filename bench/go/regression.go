package main

import (
	"flag"
	"fmt"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/nn"
)

// regressionMain is bench/pytorch/regression.py on the project, at the seed's
// best hyperparameters (TABLE II): --bench epoch times training epochs over
// the 80 points of a 5-fold training split, --bench cv the whole 5-fold
// cross-validation with the mean ensemble's test MSE.
func regressionMain(args []string) error {
	fs := flag.NewFlagSet("regression", flag.ContinueOnError)
	var c common
	c.register(fs)
	which := fs.String("bench", "", "epoch or cv")
	epochs := fs.Int("epochs", 0, "epoch: epochs to average; cv: epochs per fold (default: the seed's 180)")
	folds := fs.Int("folds", 5, "folds of the cross-validation")
	validate := fs.Bool("validate", false, "epoch: validate on the fold's 20 points after every epoch, as cv.Run does")
	if err := fs.Parse(args); err != nil {
		return err
	}
	spec, hp := nn.SeedRegressionBest()
	if *epochs < 0 || *folds < 2 {
		return fmt.Errorf("--epochs must not be negative and --folds at least 2")
	}
	if *epochs > 0 {
		hp.Epochs = *epochs
	}
	choice, err := c.open()
	if err != nil {
		return err
	}
	trainCSV, testCSV, err := data.LoadRegression(data.Options{Dir: c.dataDir})
	if err != nil {
		return err
	}
	train, test := nn.FromCSV(trainCSV), nn.FromCSV(testCSV)
	switch *which {
	case "epoch":
		return regressionEpoch(&c, choice, spec, hp, train, *folds, *validate)
	case "cv":
		return regressionCV(&c, choice, spec, hp, train, test, *folds)
	}
	return fmt.Errorf("--bench %q: want epoch or cv", *which)
}

func regressionEpoch(c *common, choice *backend.Choice, spec nn.Spec, hp nn.Hyperparameters, all *nn.Data, folds int, validate bool) error {
	splits, err := data.KFold(all.Len(), folds, c.seed)
	if err != nil {
		return err
	}
	train, err := all.Subset(splits[0].Train)
	if err != nil {
		return err
	}
	var val *nn.Data
	if validate {
		if val, err = all.Subset(splits[0].Val); err != nil {
			return err
		}
	}
	m, err := nn.New(choice.Backend, spec, c.seed)
	if err != nil {
		return err
	}
	epochs := hp.Epochs
	hp.Epochs = 1
	warm := startTimer()
	if _, err := nn.Fit(m, train, val, hp, nn.Options{Seed: c.seed, Progress: nn.ProgressOff}); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	warmS, _ := warm.stop()
	hp.Epochs = epochs
	stop, err := c.profile()
	if err != nil {
		return err
	}
	t := startTimer()
	_, err = nn.Fit(m, train, val, hp, nn.Options{Seed: c.seed + 1, Progress: nn.ProgressOff})
	wall, cpu := t.stop()
	stop()
	if err != nil {
		return err
	}
	return report("regression_epoch", c, choice, map[string]any{
		"samples": train.Len(), "batch": hp.BatchSize, "epochs": epochs, "compile_s": warmS, "validate": validate,
		"epoch_ms": round3(1000 * wall / float64(epochs)), "epoch_cpu_ms": round3(1000 * cpu / float64(epochs)),
	})
}

func regressionCV(c *common, choice *backend.Choice, spec nn.Spec, hp nn.Hyperparameters, train, test *nn.Data, folds int) error {
	stop, err := c.profile()
	if err != nil {
		return err
	}
	// Timed as a user runs it: cold, compiles included, like the PyTorch
	// script's timer, which also covers each fold's test predictions.
	t := startTimer()
	res, err := cv.Run(choice.Backend, cv.Config{Spec: spec, Hyperparameters: hp, Folds: folds, Seed: c.seed,
		Progress: nn.ProgressOff}, train)
	if err != nil {
		stop()
		return err
	}
	if err := res.Evaluate(test); err != nil {
		stop()
		return err
	}
	_, ensembleMSE, err := res.EnsembleRegression(test)
	wall, cpu := t.stop()
	stop()
	if err != nil {
		return err
	}
	var valMSE, testMSE []float64
	for _, f := range res.Folds {
		valMSE = append(valMSE, round4(f.Validation.Loss))
		testMSE = append(testMSE, round4(f.Test.Loss))
	}
	return report("regression_cv", c, choice, map[string]any{
		"folds": folds, "epochs": hp.Epochs, "batch": hp.BatchSize, "seed": c.seed,
		"seconds": wall, "cpu_s": cpu, "val_mse": valMSE, "test_mse": testMSE,
		"mean_ensemble_test_mse": round4(ensembleMSE),
	})
}
