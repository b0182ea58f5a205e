package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/nn"
)

func init() {
	register("cv", "k-fold CV with given hyperparameters", runCV)
}

// cvSummary is what `hw1 cv` prints on stdout.
type cvSummary struct {
	Task            string             `json:"task"`
	Backend         string             `json:"backend"`
	Spec            nn.Spec            `json:"spec"`
	Hyperparameters nn.Hyperparameters `json:"hyperparameters"`
	Seed            int64              `json:"seed"`
	WallSeconds     float64            `json:"wall_seconds"`
	TrainSeconds    float64            `json:"train_seconds"`
	Folds           []cvFoldSummary    `json:"folds"`
	BestFold        int                `json:"best_fold"`
	// Compilations are the graphs compiled to train and score the folds.
	Compilations nn.CompileStats `json:"compilations"`
	// Ensemble metric on the test set: one of the two, by task.
	EnsembleTestMSE      *float64 `json:"ensemble_test_mse,omitempty"`
	EnsembleTestAccuracy *float64 `json:"ensemble_test_accuracy,omitempty"`
}

type cvFoldSummary struct {
	Fold               int       `json:"fold"`
	Epochs             int       `json:"epochs"`
	Seconds            float64   `json:"seconds"`
	MeanEpochSeconds   float64   `json:"mean_epoch_seconds"`
	ValidationLoss     *float64  `json:"validation_loss,omitempty"`
	ValidationAccuracy *float64  `json:"validation_accuracy,omitempty"`
	TestLoss           float64   `json:"test_loss"`
	TestAccuracy       *float64  `json:"test_accuracy,omitempty"`
	EpochTestAccuracy  []float64 `json:"epoch_test_accuracy,omitempty"`
	EpochSeconds       []float64 `json:"epoch_seconds,omitempty"`
	TrainLoss          []float64 `json:"train_loss,omitempty"`
}

func runCV(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hw1 cv regression|classification [flags]\n\n"+
			"Trains one model per fold with the seed's best hyperparameters (TABLE II or IV) unless\n"+
			"flags override them, scores each on the test set and the ensemble of all; prints a JSON\n"+
			"summary on stdout, progress on stderr.\n\nflags:")
		fs.PrintDefaults()
	}
	folds := fs.Int("folds", 0, "number of folds; 1 trains on the whole training set (default 5 for regression, 10 for classification)")
	epochs := fs.Int("epochs", 0, "epochs (default: the seed's)")
	batch := fs.Int("batch", 0, "batch size (default: the seed's)")
	var lr finiteFloat
	fs.Var(&lr, "lr", "learning rate (default: the seed's)")
	optimizer := fs.String("optimizer", "", "SGD, Adam or RMSprop (default: the seed's)")
	backendFlag := fs.String("backend", "", taskBackendUsage)
	dataDir := fs.String("data-dir", "", "directory with the datasets (default: $HW1_DATA_DIR, then the cache)")
	seed := fs.Int64("seed", 42, "seed of the folds, initialisation, shuffling and dropout")
	progress := fs.Bool("progress", false, "print one progress line per epoch even when stderr is not a terminal")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fs.Usage()
		return 0
	}
	if len(args) == 0 || (args[0] != "regression" && args[0] != "classification") {
		fs.Usage()
		return 2
	}
	task := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hw1 cv: unexpected arguments %v\n", fs.Args())
		return 2
	}
	for _, c := range []struct {
		flag string
		v    float64
		max  float64
		why  string
	}{
		{"folds", float64(*folds), math.MaxInt, ""},
		{"epochs", float64(*epochs), nn.MaxEpochs, " (nn.MaxEpochs)"},
		{"batch", float64(*batch), math.MaxInt, ""},
		{"lr", float64(lr), math.MaxFloat64, ""},
	} {
		v := strconv.FormatFloat(c.v, 'f', -1, 64)
		if c.v < 0 {
			fmt.Fprintf(stderr, "hw1 cv: --%s %s: want > 0 (0 or no flag: the default)\n", c.flag, v)
			return 2
		}
		if c.v > c.max {
			fmt.Fprintf(stderr, "hw1 cv: --%s %s: over the maximum of %s%s\n", c.flag, v, strconv.FormatFloat(c.max, 'f', -1, 64), c.why)
			return 2
		}
	}
	start := time.Now()

	var spec nn.Spec
	var hp nn.Hyperparameters
	if task == "regression" {
		spec, hp = nn.SeedRegressionBest()
	} else {
		spec, hp = nn.SeedClassificationBest()
	}
	if *folds == 0 {
		// The seed preset's k (5 for the regression, 10 for the classification).
		seedCfg, err := homework.Preset(task, "seed")
		if err != nil {
			fmt.Fprintf(stderr, "hw1 cv: %v\n", err)
			return 2
		}
		*folds = seedCfg.Folds
	}
	if *epochs > 0 {
		hp.Epochs = *epochs
	}
	if *batch > 0 {
		hp.BatchSize = *batch
	}
	if lr > 0 {
		hp.LearningRate = float64(lr)
	}
	if *optimizer != "" {
		hp.Optimizer = *optimizer
	}
	if err := hp.Validate(); err != nil {
		fmt.Fprintf(stderr, "hw1 cv: %v\n", err)
		return 2
	}

	choice, err := homework.ChooseBackend(task, *backendFlag)
	if err != nil {
		fmt.Fprintf(stderr, "hw1 cv: %v\n", err)
		return 1
	}
	fmt.Fprintln(stderr, choice)

	opts := data.Options{Dir: *dataDir, Log: stderr}
	var train, test *nn.Data
	if task == "regression" {
		tr, te, err := data.LoadRegression(opts)
		if err != nil {
			fmt.Fprintf(stderr, "hw1 cv: %v\n", err)
			return 1
		}
		train, test = nn.FromCSV(tr), nn.FromCSV(te)
	} else {
		tr, te, err := data.LoadFashionMNIST(opts)
		if err != nil {
			fmt.Fprintf(stderr, "hw1 cv: %v\n", err)
			return 1
		}
		train, test = nn.FromImages(tr), nn.FromImages(te)
	}

	if *folds > train.Len() {
		fmt.Fprintf(stderr, "hw1 cv: --folds %d: more folds than the %d training examples\n", *folds, train.Len())
		return 2
	}
	cfg := cv.Config{Spec: spec, Hyperparameters: hp, Folds: *folds, Seed: *seed, Log: stderr, ProgressOut: stderr}
	if *progress {
		cfg.Progress = nn.ProgressAlways
	}
	if *folds == 1 {
		// One model: report its test score after every epoch. It does not
		// steer training (no early stopping), it only shows the curve.
		cfg.Validation = test
	}
	res, err := cv.Run(choice.Backend, cfg, train)
	if err != nil {
		fmt.Fprintf(stderr, "hw1 cv: %v\n", err)
		return 1
	}
	if err := res.Evaluate(test); err != nil {
		fmt.Fprintf(stderr, "hw1 cv: %v\n", err)
		return 1
	}

	sum := cvSummary{Task: task, Backend: choice.Name, Spec: spec, Hyperparameters: hp, Seed: *seed,
		TrainSeconds: res.Seconds, BestFold: res.Best() + 1}
	for _, f := range res.Folds {
		fsum := cvFoldSummary{Fold: f.Index + 1, Epochs: len(f.History.Epochs), Seconds: f.Seconds,
			TestLoss: f.Test.Loss, TestAccuracy: finite(f.Test.Accuracy)}
		var epochSeconds float64
		for _, e := range f.History.Epochs {
			epochSeconds += e.Seconds
			if *folds == 1 {
				fsum.EpochSeconds = append(fsum.EpochSeconds, e.Seconds)
				fsum.TrainLoss = append(fsum.TrainLoss, e.TrainLoss)
				if !math.IsNaN(e.ValAccuracy) {
					fsum.EpochTestAccuracy = append(fsum.EpochTestAccuracy, e.ValAccuracy)
				}
			}
		}
		fsum.MeanEpochSeconds = epochSeconds / float64(len(f.History.Epochs))
		if *folds > 1 {
			fsum.ValidationLoss = finite(f.Validation.Loss)
			fsum.ValidationAccuracy = finite(f.Validation.Accuracy)
		}
		sum.Folds = append(sum.Folds, fsum)
	}
	if task == "regression" {
		_, mse, err := res.EnsembleRegression(test)
		if err != nil {
			fmt.Fprintf(stderr, "hw1 cv: %v\n", err)
			return 1
		}
		sum.EnsembleTestMSE = &mse
	} else {
		_, acc, err := res.EnsembleClassification(test)
		if err != nil {
			fmt.Fprintf(stderr, "hw1 cv: %v\n", err)
			return 1
		}
		sum.EnsembleTestAccuracy = &acc
	}
	sum.WallSeconds = time.Since(start).Seconds()
	sum.Compilations = res.Compilations
	fmt.Fprintf(stderr, "cross-validation: done in %.1f s, %s\n", sum.WallSeconds, res.Compilations)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sum); err != nil {
		fmt.Fprintf(stderr, "hw1 cv: %v\n", err)
		return 1
	}
	return 0
}

// finite returns a pointer to x, or nil for NaN (JSON has no NaN).
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}
