package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/gomlx/compute"
)

// homeworkMain estimates how long the whole homework takes under the "seed"
// preset (lib/homework.Preset(task, "seed"): 500 regression trials with
// epochs 100..1000 and 5-fold CV; 300 classification trials with epochs
// 10..100 on the 10k/5k subset and 10-fold CV over the 60k images) without
// running all of it: it times the first --regression-trials and
// --classification-trials trials of each study (RunStudy of that preset with
// fewer trials: the same sampler, seed and pruner, so the same first trials),
// then one fold of each cross-validation at the study's best
// hyperparameters, and extrapolates: trial time x (preset trials / trials
// run) + fold time x k, the seconds spent compiling counted once in the
// wall time (lib/nn times compilations in wall seconds only, so the CPU
// estimate scales all of it: an upper bound). bench/pytorch/homework.py does the same
// with Optuna and PyTorch, which compile nothing.
//
// The fold is fold 1 of the k-fold split that the homework's RunCV trains
// (data.KFold over the same training set with the preset's seed, the model
// seeded as cv.Run seeds fold 1), trained by cv.Run in its one-fold mode
// with the fold's held-out part validated every epoch, then scored on the
// test set: lib/homework's RunCV runs every fold and has no one-fold option,
// so its per-fold work is reproduced here rather than timed whole and
// divided. It leaves out what RunCV adds around the folds (the regression's
// fit.gif snapshots every 5 epochs of the last fold, the ensembles).
//
// The extrapolation is linear in the trials: TPE's own cost grows with the
// trials, and later trials are pruned more often, so it is an estimate of
// the order of magnitude, not a measurement.
//
// --backend default runs each task on the backend `make run` gives it
// (homework.ChooseBackend), which is what bench/run.sh measures.
func homeworkMain(args []string) error {
	fs := flag.NewFlagSet("homework", flag.ContinueOnError)
	var c common
	c.register(fs)
	regTrials := fs.Int("regression-trials", 50, "regression trials to run of the preset's 500")
	clsTrials := fs.Int("classification-trials", 20, "classification trials to run of the preset's 300")
	maxEpochs := fs.Int("max-epochs", 0, "cap both ends of the epochs ranges at this (0: the preset's; smoke runs use 1)")
	clsMaxEpochs := fs.Int("classification-max-epochs", 0, "cap both ends of the classification's epochs range only (0: --max-epochs)")
	cvEpochs := fs.Int("cv-epochs", 0, "epochs of the CV folds (0: the best trial's, as the homework)")
	cvTrain := fs.Int("cv-train", 0, "classification CV over a stratified subset of this many images (0: all 60k, as the homework)")
	verbose := fs.Bool("v", false, "log each trial and fold on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *regTrials < 1 || *clsTrials < 1 || *maxEpochs < 0 || *clsMaxEpochs < 0 || *cvEpochs < 0 || *cvTrain < 0 {
		return fmt.Errorf("--regression-trials and --classification-trials must be positive, the others not negative")
	}
	seedSet := false
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	// --backend default: each task on the project's default backend
	// (homework.ChooseBackend: the regression on pure Go, the classification
	// on XLA when its plugin loads), as `make run` trains them.
	var choice *backend.Choice
	var descs []string
	if c.backend != defaultBackends {
		var err error
		if choice, err = c.open(); err != nil {
			return err
		}
	}
	logTo := io.Discard
	if *verbose {
		logTo = os.Stderr
	}
	opts := homework.Options{Log: logTo, Progress: nn.ProgressOff}
	fields := map[string]any{"preset": "seed", "max_epochs": *maxEpochs, "classification_max_epochs": *clsMaxEpochs,
		"cv_epochs": *cvEpochs, "cv_train": *cvTrain}
	before := nn.Compilations()
	stop, err := c.profile()
	if err != nil {
		return err
	}
	defer stop()
	var total, totalCPU float64
	for _, task := range []string{homework.TaskRegression, homework.TaskClassification} {
		cfg, err := homework.Preset(task, "seed")
		if err != nil {
			return err
		}
		seedTrials := cfg.Trials
		out, err := os.MkdirTemp("", "hw1-bench-homework-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(out)
		cfg.Trials, cfg.Out, cfg.Backend, cfg.DataDir = *regTrials, out, c.backend, c.dataDir
		if c.backend == defaultBackends {
			cfg.Backend = ""
		}
		if task == homework.TaskClassification {
			cfg.Trials = *clsTrials
		}
		if seedSet {
			cfg.Seed = c.seed
		}
		capEpochs(&cfg.Space, *maxEpochs)
		if task == homework.TaskClassification {
			capEpochs(&cfg.Space, *clsMaxEpochs)
		}
		fields["seed"] = cfg.Seed
		run, err := homework.New(cfg, opts)
		if err != nil {
			return err
		}
		defer run.Close()
		descs = append(descs, task+" "+run.Backend.String())
		fields[task+"_backend"] = run.Backend.Name
		st, err := measureStudy(run.RunStudy, func() *hpo.Study { return run.Study })
		if err != nil {
			return fmt.Errorf("%s study: %w", task, err)
		}
		best, err := run.BuildOptModel()
		if err != nil {
			return err
		}
		all, test, err := foldData(run, *cvTrain)
		if err != nil {
			return err
		}
		fold, err := timeFold(run.Backend.Backend, best, cfg, *cvEpochs, all, test, logTo)
		if err != nil {
			return fmt.Errorf("%s fold: %w", task, err)
		}
		p := task + "_"
		// Compiling is counted once, not scaled: later trials and folds
		// reuse the graphs of the shapes seen (lib/nn pools them), so the
		// seed run compiles little more than its first trials did.
		scale, k := float64(seedTrials)/float64(cfg.Trials), float64(cfg.Folds)
		seedS := (st.wall-st.compile.Seconds)*scale + st.compile.Seconds + (fold.wall-fold.compile.Seconds)*k + fold.compile.Seconds
		seedCPU := st.cpu*scale + fold.cpu*k
		total, totalCPU = total+seedS, totalCPU+seedCPU
		for k, v := range map[string]any{
			"trials": st.trials, "seed_trials": seedTrials, "folds": cfg.Folds,
			"epochs_range": []int{cfg.Space.Epochs.Low, cfg.Space.Epochs.High},
			"complete":     st.complete, "pruned": st.pruned, "failed": st.failed, "epochs_run": st.epochs,
			"study_s": st.wall, "study_cpu_s": st.cpu, "best_value": round4(st.best), "best_params": st.bestParams,
			"study_compile_graphs": st.compile.Graphs, "study_compile_s": round3(st.compile.Seconds),
			"fold_s": fold.wall, "fold_cpu_s": fold.cpu, "fold_epochs": fold.epochs, "fold_train": fold.train,
			"fold_compile_graphs": fold.compile.Graphs, "fold_compile_s": round3(fold.compile.Seconds),
			"fold_val_loss": round4(fold.val.Loss), "fold_test_loss": round4(fold.test.Loss),
			"seed_s": round3(seedS), "seed_cpu_s": round3(seedCPU), "seed_h": round3(seedS / 3600),
		} {
			fields[p+k] = v
		}
		if task == homework.TaskClassification {
			fields[p+"fold_val_accuracy"], fields[p+"fold_test_accuracy"] = round4(fold.val.Accuracy), round4(fold.test.Accuracy)
		}
	}
	compiled := nn.Compilations().Sub(before)
	fields["seed_total_s"], fields["seed_total_cpu_s"] = round3(total), round3(totalCPU)
	fields["seed_total_h"], fields["seed_total_cpu_h"] = round3(total/3600), round3(totalCPU/3600)
	fields["compile_graphs"], fields["compile_s"] = compiled.Graphs, round3(compiled.Seconds)
	if choice == nil {
		fields["backend_desc"] = strings.Join(descs, "; ")
	}
	return report("homework", &c, choice, fields)
}

// foldData is what the run's CV splits and tests on: the regression's CSVs,
// or the Fashion-MNIST images, over a stratified subset of cvTrain of them
// when 0 < cvTrain < 60k, as the homework's RunCV with cv_train.
func foldData(run *homework.Run, cvTrain int) (all, test *nn.Data, err error) {
	if r := run.Regression; r != nil {
		return nn.FromCSV(r.Train), nn.FromCSV(r.Test), nil
	}
	c := run.Classification
	all, test = nn.FromImages(c.Train), nn.FromImages(c.Test)
	if cvTrain > 0 && cvTrain < all.Len() {
		idx, _, err := data.StratifiedSubset(c.Train.Labels, cvTrain, 0, run.Config.Seed)
		if err != nil {
			return nil, nil, err
		}
		if all, err = all.Subset(idx); err != nil {
			return nil, nil, err
		}
	}
	return all, test, nil
}

// defaultBackends is the --backend of the homework item that runs each task
// on the project's default backend.
const defaultBackends = "default"

// foldStats are the figures of one timed CV fold.
type foldStats struct {
	wall, cpu     float64
	compile       nn.CompileStats
	epochs, train int
	val, test     cv.Score
}

// timeFold trains fold 1 of the homework's k-fold cross-validation of all
// (cfg.Folds folds, cfg.Seed) at the study's best model, validating the
// fold's held-out part every epoch, and scores it on test: the work of one
// fold of RunCV (see homeworkMain).
func timeFold(be compute.Backend, best homework.Model, cfg homework.Config, epochs int, all, test *nn.Data, log io.Writer) (foldStats, error) {
	hp := best.Hyperparameters
	if epochs > 0 {
		hp.Epochs = epochs
	}
	var f foldStats
	before := nn.Compilations()
	t := startTimer()
	splits, err := data.KFold(all.Len(), cfg.Folds, cfg.Seed)
	if err != nil {
		return f, err
	}
	train, err := all.Subset(splits[0].Train)
	if err != nil {
		return f, err
	}
	val, err := all.Subset(splits[0].Val)
	if err != nil {
		return f, err
	}
	// Folds: 1 trains one model on train, seeded with Seed+0 as cv.Run seeds
	// fold 1 of k, and scores Validation after every epoch, as the k-fold
	// run scores each fold's held-out part.
	res, err := cv.Run(be, cv.Config{Spec: best.Spec, Hyperparameters: hp, Folds: 1, Seed: cfg.Seed,
		Validation: val, Progress: nn.ProgressOff, Log: log}, train)
	if err != nil {
		return f, err
	}
	if err := res.Evaluate(test); err != nil {
		return f, err
	}
	f.wall, f.cpu = t.stop()
	f.compile = nn.Compilations().Sub(before)
	fold := res.Folds[0]
	last := fold.History.Last()
	f.epochs, f.train = len(fold.History.Epochs), train.Len()
	f.val = cv.Score{Loss: last.ValLoss, Accuracy: last.ValAccuracy}
	f.test = *fold.Test
	return f, nil
}
