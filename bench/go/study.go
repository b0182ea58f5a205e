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

// studyMain runs the project's regression study as `hw1 regression` does
// (lib/homework: Listing 1's space with epochs cut to 100..300, TPE with the
// preset's seed, median pruner, 80/20 holdout of train_data.csv, validation
// loss reported every epoch) for a fixed number of trials, into a temporary
// results folder, and times it.
func studyMain(args []string) error {
	fs := flag.NewFlagSet("study", flag.ContinueOnError)
	var c common
	c.register(fs)
	trials := fs.Int("trials", 50, "trials of the study")
	verbose := fs.Bool("v", false, "log each trial on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *trials < 1 {
		return fmt.Errorf("--trials must be positive")
	}
	choice, err := c.open()
	if err != nil {
		return err
	}
	cfg, err := homework.Preset(homework.TaskRegression, "quick")
	if err != nil {
		return err
	}
	out, err := os.MkdirTemp("", "hw1-bench-study-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(out)
	cfg.Trials, cfg.Out, cfg.Backend, cfg.DataDir = *trials, out, c.backend, c.dataDir
	// The reference runs Optuna's MedianPruner() with its defaults (5 startup
	// trials, no warm-up) and seed 0: the same here, so that both sides run
	// the same algorithm; epochs_run says how much training each did.
	cfg.Seed, cfg.PrunerStartupTrials, cfg.PrunerWarmupSteps = c.seed, 5, 0
	logTo := io.Discard
	if *verbose {
		logTo = os.Stderr
	}
	stop, err := c.profile()
	if err != nil {
		return err
	}
	t := startTimer()
	run, err := homework.NewRegression(cfg, homework.Options{Log: logTo, Progress: nn.ProgressOff})
	if err != nil {
		stop()
		return err
	}
	err = run.RunStudy()
	wall, cpu := t.stop()
	stop()
	if err != nil {
		return err
	}
	all, err := run.Study.Trials()
	if err != nil {
		return err
	}
	states := map[hpo.TrialState]int{}
	epochsRun := 0
	for _, tr := range all {
		states[tr.State]++
		epochsRun += len(tr.Intermediate)
	}
	best, err := run.Study.BestValue()
	if err != nil {
		return err
	}
	sp := cfg.Space
	return report("regression_study", &c, choice, map[string]any{
		"trials": len(all), "complete": states[hpo.Complete], "pruned": states[hpo.Pruned], "failed": states[hpo.Failed],
		"epochs_range": []int{sp.Epochs.Low, sp.Epochs.High}, "seed": cfg.Seed,
		"seconds": wall, "cpu_s": cpu, "best_value": round4(best), "epochs_run": epochsRun,
		"ms_per_epoch_run": round3(1000 * wall / float64(max(epochsRun, 1))),
	})
}
