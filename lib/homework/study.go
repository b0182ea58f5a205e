package homework

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/nn"
)

// objectiveName is what the study optimizes, for logs and figure labels.
func objectiveName(task string) string {
	if task == TaskClassification {
		return "validation accuracy"
	}
	return "validation loss"
}

func direction(task string) hpo.Direction {
	if task == TaskClassification {
		return hpo.Maximize
	}
	return hpo.Minimize
}

// openStudy opens (or resumes) the study journal of the results folder, with
// the seed's sampler and pruner: TPE with a fixed seed, and the median pruner.
func openStudy(cfg *Config, dir string, log io.Writer) (*hpo.Study, error) {
	storage, err := hpo.OpenJournal(filepath.Join(dir, FileJournal))
	if err != nil {
		return nil, fmt.Errorf("study journal: %w", err)
	}
	pruner := hpo.NewMedianPruner()
	pruner.NStartupTrials = cfg.PrunerStartupTrials
	pruner.NWarmupSteps = cfg.PrunerWarmupSteps
	study, err := hpo.NewStudy(
		hpo.WithName(cfg.Study),
		hpo.WithDirection(direction(cfg.Task)),
		hpo.WithSampler(hpo.NewTPESampler(uint64(cfg.Seed))),
		hpo.WithPruner(pruner),
		hpo.WithStorage(storage),
		hpo.WithSeed(uint64(cfg.Seed)),
	)
	if err != nil {
		storage.Close()
		return nil, fmt.Errorf("study: %w", err)
	}
	return study, nil
}

// finishedTrials counts the trials that ended (complete, pruned or failed):
// a resumed study runs only what is left of cfg.Trials.
func finishedTrials(study *hpo.Study) (int, error) {
	trials, err := study.Trials()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range trials {
		if t.State != hpo.Running {
			n++
		}
	}
	return n, nil
}

// trainObjective is the study's objective: build the trial's model, train it
// on train, report the validation metric each epoch, and stop when the pruner
// says so.
func trainObjective(b compute.Backend, cfg *Config, train, val *nn.Data, log io.Writer, nTotal int) hpo.Objective {
	return func(t *hpo.Trial) (float64, error) {
		start := time.Now()
		m, err := suggestModel(t, cfg.Task, cfg.Space)
		if err != nil {
			return math.NaN(), err
		}
		model, err := nn.New(b, m.Spec, cfg.Seed+int64(t.Number()))
		if err != nil {
			return math.NaN(), err
		}
		// Models of one shape share their compiled graphs (lib/nn pools
		// them), so a trial of a shape already seen compiles nothing.
		last := math.NaN()
		pruned := false
		report := func(_ *nn.Model, st nn.EpochStats) error {
			last = st.ValLoss
			if cfg.Task == TaskClassification {
				last = st.ValAccuracy
			}
			if err := t.Report(st.Epoch, last); err != nil {
				return err
			}
			if t.ShouldPrune() {
				pruned = true
				return fmt.Errorf("%w: pruned at epoch %d", nn.ErrStop, st.Epoch)
			}
			return nil
		}
		hist, err := nn.Fit(model, train, val, m.Hyperparameters, nn.Options{
			Seed: cfg.Seed + int64(t.Number()), Callbacks: []nn.Callback{report}, Progress: nn.ProgressOff,
		})
		if err != nil {
			if log != nil {
				fmt.Fprintf(log, "trial %d (%d/%d): failed: %v\n", t.Number(), t.Number()+1, nTotal, err)
			}
			return math.NaN(), err
		}
		state := "complete"
		if pruned {
			state = fmt.Sprintf("pruned at epoch %d", len(hist.Epochs))
		}
		if log != nil {
			fmt.Fprintf(log, "trial %d (%d/%d): %s %.4f, %s, %.1fs\n", t.Number(), t.Number()+1, nTotal, objectiveName(cfg.Task), last, state, time.Since(start).Seconds())
		}
		if pruned {
			return last, hpo.ErrPruned
		}
		return last, nil
	}
}

// runStudy runs what is left of the study and returns it with the model of its
// best trial.
func runStudy(b compute.Backend, cfg *Config, dir string, train, val *nn.Data, log io.Writer) (*hpo.Study, Model, error) {
	study, err := openStudy(cfg, dir, log)
	if err != nil {
		return nil, Model{}, err
	}
	done, err := finishedTrials(study)
	if err != nil {
		return study, Model{}, err
	}
	if done == 0 && cfg.EnqueueSeedBest {
		if err := study.EnqueueTrial(seedBestParams(cfg.Task, cfg.Space)); err != nil {
			return study, Model{}, fmt.Errorf("study: enqueue the seed's best: %w", err)
		}
	}
	if left := cfg.Trials - done; left > 0 {
		if done > 0 && log != nil {
			fmt.Fprintf(log, "resuming study %q: %d trials done, %d to go\n", cfg.Study, done, left)
		}
		timeout := time.Duration(cfg.TimeoutSeconds * float64(time.Second))
		if err := study.Optimize(trainObjective(b, cfg, train, val, log, cfg.Trials), left, timeout); err != nil {
			return study, Model{}, fmt.Errorf("study: %w", err)
		}
	} else if log != nil {
		fmt.Fprintf(log, "study %q already has %d trials: not running more\n", cfg.Study, done)
	}
	best, err := study.BestParams()
	if errors.Is(err, hpo.ErrNoCompleteTrials) {
		return study, Model{}, fmt.Errorf("study %q: no trial completed (all pruned or failed): raise trials or pruner_startup_trials", cfg.Study)
	}
	if err != nil {
		return study, Model{}, fmt.Errorf("study: %w", err)
	}
	m, err := BuildOptModel(cfg.Task, cfg.Space, best)
	return study, m, err
}
