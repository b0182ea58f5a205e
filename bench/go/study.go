package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/nn"
)

// studyMain runs one of the project's studies as `hw1` does (lib/homework,
// the "quick" preset's space, TPE with a fixed seed, median pruner, the
// validation metric reported every epoch) for a fixed number of trials, into
// a temporary results folder, and times it:
//
//   - --task regression (the default; bench/pytorch/study.py): Listing 1's
//     space with epochs cut to 100..300, 80/20 holdout of train_data.csv,
//     validation MSE minimized; 50 trials.
//   - --task classification (bench/pytorch/classification_study.py):
//     Listing 2's space with epochs cut to 1..3, the stratified 10k/5k subset
//     of Fashion-MNIST's training images, validation accuracy maximized; 20
//     trials.
//
// What is timed is RunStudy alone: loading the data, opening the backend and
// creating the results folder come before (PyTorch's timer likewise covers
// the split and study.optimize).
func studyMain(args []string) error {
	fs := flag.NewFlagSet("study", flag.ContinueOnError)
	var c common
	c.register(fs)
	task := fs.String("task", homework.TaskRegression, "regression or classification")
	trials := fs.Int("trials", 0, "trials of the study (default: 50 for the regression, 20 for the classification)")
	maxEpochs := fs.Int("max-epochs", 0, "cap both ends of the epochs range at this (0: the range above; smoke runs use 1)")
	verbose := fs.Bool("v", false, "log each trial on stderr")
	batchBits := fs.Int("batch-bits", -1, "pad batches to buckets of this many bits (nn.Padding; -1: the backend's default)")
	widthBits := fs.Int("width-bits", -1, "pad hidden widths to buckets of this many bits (-1: the backend's default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *trials == 0 {
		*trials = map[string]int{homework.TaskRegression: 50, homework.TaskClassification: 20}[*task]
	}
	if *trials < 1 || *maxEpochs < 0 {
		return fmt.Errorf("--trials must be positive and --max-epochs not negative")
	}
	choice, err := c.open()
	if err != nil {
		return err
	}
	cfg, err := homework.Preset(*task, "quick")
	if err != nil {
		return err
	}
	out, err := os.MkdirTemp("", "hw1-bench-study-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	cfg.Trials, cfg.Out, cfg.Backend, cfg.DataDir = *trials, out, c.backend, c.dataDir
	// The reference runs Optuna's TPESampler(seed) and MedianPruner() with
	// its defaults (5 startup trials, no warm-up) and enqueues nothing: the
	// same here (the quick preset would start from the seed's best point and
	// prune later), so that both sides run the same algorithm; epochs_run says
	// how much training each did.
	cfg.Seed, cfg.PrunerStartupTrials, cfg.PrunerWarmupSteps, cfg.EnqueueSeedBest = c.seed, 5, 0, false
	capEpochs(&cfg.Space, *maxEpochs)
	if *batchBits >= 0 || *widthBits >= 0 {
		p := homework.Padding{}.Resolve(choice, *task) // the task's default on this backend
		if *batchBits >= 0 {
			p.BatchBits = *batchBits
		}
		if *widthBits >= 0 {
			p.WidthBits = *widthBits
		}
		cfg.Padding = homework.Padding{Mode: homework.PaddingBuckets, Buckets: p}
	}
	logTo := io.Discard
	if *verbose {
		logTo = os.Stderr
	}
	opts := homework.Options{Log: logTo, Progress: nn.ProgressOff}
	var st studyStats
	fields := map[string]any{}
	switch *task {
	case homework.TaskRegression:
		run, err := homework.NewRegression(cfg, opts)
		if err != nil {
			return err
		}
		defer run.Close()
		if st, err = profiledStudy(&c, run.RunStudy, func() *hpo.Study { return run.Study }); err != nil {
			return err
		}
	case homework.TaskClassification:
		run, err := homework.NewClassification(cfg, opts)
		if err != nil {
			return err
		}
		defer run.Close()
		if st, err = profiledStudy(&c, run.RunStudy, func() *hpo.Study { return run.Study }); err != nil {
			return err
		}
		fields["study_train"], fields["study_val"] = cfg.StudyTrain, cfg.StudyVal
	default:
		return fmt.Errorf("--task %q: want %s or %s", *task, homework.TaskRegression, homework.TaskClassification)
	}
	sp := cfg.Space
	fields["epochs_range"], fields["seed"] = []int{sp.Epochs.Low, sp.Epochs.High}, cfg.Seed
	if cfg.Padding.Mode == homework.PaddingBuckets {
		fields["batch_bits"], fields["width_bits"] = cfg.Padding.Buckets.BatchBits, cfg.Padding.Buckets.WidthBits
	}
	for k, v := range st.fields() {
		fields[k] = v
	}
	return report(*task+"_study", &c, choice, fields)
}

// capEpochs caps both ends of the space's epochs range (0: no cap).
func capEpochs(sp *homework.Space, cap int) {
	if cap > 0 {
		sp.Epochs.Low, sp.Epochs.High = min(sp.Epochs.Low, cap), min(sp.Epochs.High, cap)
	}
}

// profiledStudy is measureStudy under the CPU profile of --cpuprofile.
func profiledStudy(c *common, run func() error, study func() *hpo.Study) (studyStats, error) {
	stop, err := c.profile()
	if err != nil {
		return studyStats{}, err
	}
	defer stop()
	return measureStudy(run, study)
}

// studyStats are the figures of a timed study.
type studyStats struct {
	wall, cpu                                float64
	compile                                  nn.CompileStats
	trials, complete, pruned, failed, epochs int
	best                                     float64
	bestParams                               map[string]any
}

// measureStudy times run (a RunStudy), counts the graphs lib/nn compiled
// meanwhile, and reads the trials of the study it ran.
func measureStudy(run func() error, study func() *hpo.Study) (studyStats, error) {
	var s studyStats
	before := nn.Compilations()
	t := startTimer()
	err := run()
	s.wall, s.cpu = t.stop()
	s.compile = nn.Compilations().Sub(before)
	if err != nil {
		return s, err
	}
	all, err := study().Trials()
	if err != nil {
		return s, err
	}
	s.trials = len(all)
	for _, tr := range all {
		switch tr.State {
		case hpo.Complete:
			s.complete++
		case hpo.Pruned:
			s.pruned++
		case hpo.Failed:
			s.failed++
		}
		s.epochs += len(tr.Intermediate)
	}
	if s.best, err = study().BestValue(); err != nil {
		return s, err
	}
	s.bestParams, err = study().BestParams()
	return s, err
}

// fields are the JSON fields of a study line, named as the PyTorch scripts
// name them.
func (s studyStats) fields() map[string]any {
	epochs := float64(max(s.epochs, 1))
	return map[string]any{
		"trials": s.trials, "complete": s.complete, "pruned": s.pruned, "failed": s.failed,
		"seconds": s.wall, "cpu_s": s.cpu, "best_value": round4(s.best), "best_params": s.bestParams,
		"epochs_run":           s.epochs,
		"ms_per_epoch_run":     round3(1000 * s.wall / epochs),
		"cpu_ms_per_epoch_run": round3(1000 * s.cpu / epochs),
		"compile_graphs":       s.compile.Graphs, "compile_s": round3(s.compile.Seconds),
	}
}
