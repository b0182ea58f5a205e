package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/notebook"
)

func init() {
	register("regression", "the regression task end to end: study, k-fold CV, figures, results folder", func(args []string, stdout, stderr io.Writer) int {
		return runTask(homework.TaskRegression, args, stdout, stderr)
	})
	register("classification", "the classification task end to end: study, k-fold CV, vote, figures, results folder", func(args []string, stdout, stderr io.Writer) int {
		return runTask(homework.TaskClassification, args, stdout, stderr)
	})
}

func runTask(task string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hw1 "+task, flag.ContinueOnError)
	fs.SetOutput(stderr)
	preset := fs.String("preset", "quick", "budget preset: "+strings.Join(homework.Presets(), ", "))
	configFile := fs.String("config", "", "JSON file of configuration fields applied over the preset")
	out := fs.String("out", "", "output folder; results go to <out>/<study>_results (default: the preset's, out)")
	study := fs.String("study", "", "study name; rerunning a study name resumes it (default: the preset's)")
	storage := fs.String("storage", "", "where the study's trials are kept: a journal file path, or postgresql://user:pass@host:port/db shared by workers on several machines (default: study.journal in the results folder)")
	worker := fs.Bool("worker", false, "only run trials of the study until its target (--trials) is reached: no cross-validation, no results; the run without --worker writes them, from every worker's trials")
	trials := fs.Int("trials", 0, "complete or pruned trials the study reaches, earlier runs included; failed ones are run again (default: the preset's)")
	seed := fs.Int64("seed", -1, "random seed of the study, splits and training (default: the preset's)")
	folds := fs.Int("folds", 0, "k of the k-fold cross-validation (default: the preset's)")
	var timeout finiteFloat
	fs.Var(&timeout, "timeout", "stop the study after this many seconds, the running trial at its next batch (0: no limit)")
	backendFlag := fs.String("backend", "", taskBackendUsage)
	dataDir := fs.String("data-dir", "", "local data directory (default $HW1_DATA_DIR)")
	quiet := fs.Bool("quiet", false, "no progress bars, only the log lines")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hw1 %s: unexpected argument %q\n", task, fs.Arg(0))
		return 2
	}
	cfg, err := homework.Preset(task, *preset)
	if err != nil {
		fmt.Fprintf(stderr, "hw1 %s: %v\n", task, err)
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	src := configSource{flags: set, file: *configFile}
	if *configFile != "" {
		if err := homework.LoadOverrides(&cfg, *configFile); err != nil {
			fmt.Fprintf(stderr, "hw1 %s: %v\n", task, err)
			return 2
		}
		src.fileFields = jsonFields(*configFile)
	}
	if set["out"] {
		cfg.Out = *out
	}
	if set["study"] {
		cfg.Study = *study
	}
	if set["storage"] {
		cfg.Storage = *storage
	}
	if set["trials"] {
		cfg.Trials = *trials
	}
	if set["seed"] {
		cfg.Seed = *seed
	}
	if set["folds"] {
		cfg.Folds = *folds
	}
	if set["timeout"] {
		cfg.TimeoutSeconds = float64(timeout)
	}
	if set["backend"] {
		cfg.Backend = *backendFlag
	}
	if set["data-dir"] {
		cfg.DataDir = *dataDir
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "hw1 %s: %s\n", task, src.explain(err))
		return 2
	}
	name := "hw1 " + task
	in := catchSignals(name, stderr)
	defer in.stop()
	opts := homework.Options{Log: stderr, Progress: nn.ProgressAuto, Context: in.ctx}
	if *quiet {
		opts.Progress = nn.ProgressOff
	}
	err = runOne(task, cfg, opts, in, *worker, stdout)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %s\n", name, src.explain(err))
	if sig := in.signal(); sig != nil || errors.Is(err, homework.ErrInterrupted) {
		fmt.Fprintf(stderr, "%s: the study is kept in %s; resume with: %s\n", name,
			cfg.StudyStorage(), commandLine(append([]string{task}, args...)))
		if sig != nil {
			return signalExit(sig)
		}
		return 130
	}
	var fe *homework.FieldError
	if errors.As(err, &fe) {
		return 2 // refused before the first trial: a configuration to change
	}
	return 1
}

// runOne runs the task (a worker's part of it with worker) and prints
// what it did in lib/notebook's tables, the rows a notebook shows; a
// second signal records its running trial as interrupted before the
// process exits.
func runOne(task string, cfg homework.Config, opts homework.Options, in *interrupt, worker bool, stdout io.Writer) error {
	if cfg.Task == "" {
		cfg.Task = task
	}
	t, err := homework.New(cfg, opts)
	if err != nil {
		return err
	}
	defer t.Close()
	in.beforeExit(func() {
		if err := t.Interrupt(); err != nil && opts.Log != nil {
			fmt.Fprintf(opts.Log, "could not record the running trial as interrupted: %v (a later open of the study fails it)\n", err)
		}
	})
	if worker {
		rep, err := homework.RunWorker(t)
		if err != nil {
			return err
		}
		return notebook.WriteText(stdout, notebook.WorkerTables(rep)...)
	}
	sum, err := homework.RunAll(t)
	if err != nil {
		return err
	}
	return notebook.WriteText(stdout, notebook.SummaryTables(sum)...)
}
