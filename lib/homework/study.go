package homework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dlworkbench/hw1/internal/atomicfile"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/pruners"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
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

// openStudy opens (or resumes) the study in its storage (storage.go: the
// results folder's journal unless cfg.Storage names another), with the
// seed's sampler and pruner: TPE with a fixed seed, and the median pruner.
//
// TPE runs with Optuna's constant liar on every storage: workers sharing a
// study then avoid the points the others are evaluating, and with one
// worker, which never sees another trial running, it changes nothing (a
// single process draws the trials it drew without it).
func openStudy(ctx context.Context, cfg *Config, dir string, log io.Writer) (*hpo.Study, error) {
	storage, err := openStorage(ctx, cfg, dir, log)
	if err != nil {
		return nil, err
	}
	pruner := pruners.NewMedian(pruners.WithNStartupTrials(cfg.PrunerStartupTrials), pruners.WithNWarmupSteps(cfg.PrunerWarmupSteps))
	sampler := samplers.NewTPE(samplers.WithSeed(uint64(cfg.Seed)), samplers.WithConstantLiar(true))
	study, err := hpo.NewStudy(
		hpo.WithName(cfg.Study),
		hpo.WithDirection(direction(cfg.Task)),
		hpo.WithSampler(sampler),
		hpo.WithPruner(pruner),
		hpo.WithStorage(storage),
		// The target is the storage's, shared by every process on the study;
		// failed trials (a killed or interrupted one) take no place in it.
		hpo.WithMaxTrials(cfg.Trials),
	)
	if err != nil {
		storage.Close()
		return nil, fmt.Errorf("study %q in %s: %w", cfg.Study, cfg.StudyStorage(), err)
	}
	return study, nil
}

// studyRecord is study.json: what the study was created with. The storage
// holds the distributions its trials drew from, but not the parts of the
// space that are not searched (a fixed activation, a single optimizer), so a
// resume is checked against this record as well. It lives in the results
// folder: with a shared storage each machine (each results folder) keeps
// its own, and what all workers check is what the trials record: their
// distributions and the seed (attrSeed).
type studyRecord struct {
	Study   string    `json:"study"`
	Task    string    `json:"task"`
	Seed    int64     `json:"seed"`
	Space   Space     `json:"space"`
	Created time.Time `json:"created"`
}

// checkResume refuses, before any trial runs, to resume a study with a
// configuration that differs from the one its trials were run with: a search
// space whose distributions differ from the trials', a seed other than the
// one the trials record, another task or space than study.json's. A new
// study (or a results folder new to a shared study) records what it is
// created with in study.json.
func (r *Run) checkResume(study *hpo.Study) error {
	trials, err := study.Trials()
	if err != nil {
		return fmt.Errorf("study %q: %w", r.Config.Study, err)
	}
	if err := checkSpaceAgainstTrials(&r.Config, trials); err != nil {
		return err
	}
	if err := checkSeedAgainstTrials(&r.Config, trials); err != nil {
		return err
	}
	return r.res.locked(func() error {
		path := r.res.path(FileStudy)
		raw, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			if len(trials) > 0 {
				// A study from before study.json: the last run's config.json
				// is the best record of its seed there is.
				if err := r.checkLegacySeed(); err != nil {
					return err
				}
			}
			if len(trials) == 0 {
				// A new study: a study_timings.json left by an earlier
				// study of this folder (its journal since removed) is not
				// this one's; it is kept aside, not counted.
				if err := r.res.setAsideStudyTime(); err != nil {
					return err
				}
			}
			rec := studyRecord{Study: r.Config.Study, Task: r.Config.Task, Seed: r.Config.Seed, Space: r.Config.Space, Created: time.Now().UTC()}
			data, err := json.MarshalIndent(rec, "", "  ")
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			return atomicfile.WriteBytes(path, append(data, '\n'))
		}
		if err != nil {
			return fmt.Errorf("study %q: %w", r.Config.Study, err)
		}
		var rec studyRecord
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return fmt.Errorf("study %q: %s: %w (it records the seed and the space the study was created with)", r.Config.Study, path, err)
		}
		return r.checkRecord(rec, path)
	})
}

// checkRecord compares the configuration with study.json.
func (r *Run) checkRecord(rec studyRecord, path string) error {
	c := &r.Config
	refuse := func(field, now, was string) error {
		return fieldErr(field, "%s, but study %q was created with %s (%s); resume it with that value, or start a new study with --study NAME",
			now, c.Study, was, path)
	}
	if rec.Task != "" && rec.Task != c.Task {
		return refuse("task", c.Task, "the "+rec.Task+" task")
	}
	if rec.Seed != c.Seed {
		return refuse("seed", fmt.Sprint(c.Seed), fmt.Sprintf("seed %d", rec.Seed))
	}
	was, err := fieldsJSON(rec.Space)
	if err != nil {
		return err
	}
	now, err := fieldsJSON(c.Space)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(now)) {
		if !bytes.Equal(was[k], now[k]) {
			return refuse("space."+k, string(now[k]), string(was[k]))
		}
	}
	return nil
}

// checkLegacySeed compares the seed with the config.json of a results
// folder that has trials but no study.json.
func (r *Run) checkLegacySeed() error {
	path := r.res.path(FileConfig)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil // nothing recorded: nothing to compare with
	}
	var old struct {
		Seed *int64 `json:"seed"`
	}
	if json.Unmarshal(raw, &old) != nil || old.Seed == nil || *old.Seed == r.Config.Seed {
		return nil
	}
	return fieldErr("seed", "%d; study %q was run with seed %d (%s). Resume it with the same seed, or start a new study with --study NAME",
		r.Config.Seed, r.Config.Study, *old.Seed, path)
}

// checkSeedAgainstTrials refuses a seed other than the one the study's
// trials were run with (attrSeed): the check that reaches workers on other
// machines, which do not see this folder's study.json.
func checkSeedAgainstTrials(cfg *Config, trials []hpo.FrozenTrial) error {
	for i := range trials {
		t := &trials[i]
		v, ok := t.SystemAttrs[attrSeed]
		if !ok || v == float64(cfg.Seed) {
			continue
		}
		return fieldErr("seed", "%d, but study %q was created with seed %d (trial %d in %s records it); resume it with that seed, or start a new study with --study NAME",
			cfg.Seed, cfg.Study, int64(v), t.Number, cfg.StudyStorage())
	}
	return nil
}

// fieldsJSON is each field of v as its JSON text, by JSON name.
func fieldsJSON(v any) (map[string][]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out, nil
}

// replay answers the space's questions with the values a stored trial
// drew, and records the distribution each question has under the current
// space: the same branches are taken (momentum only for SGD), so the
// parameters asked are those the trial would have under this space.
type replay struct {
	trial *hpo.FrozenTrial
	asked map[string]hpo.Distribution
}

func (p *replay) value(name string, d hpo.Distribution) (any, bool) {
	p.asked[name] = d
	return p.trial.Param(name)
}

func (p *replay) Int(name string, r IntRange) (int, error) {
	v, ok := p.value(name, intDistribution(r))
	if n, isInt := v.(int); ok && isInt {
		return n, nil
	}
	return r.Low, nil
}

func (p *replay) Float(name string, r FloatRange) (float64, error) {
	v, ok := p.value(name, floatDistribution(r))
	if x, isFloat := v.(float64); ok && isFloat {
		return x, nil
	}
	return r.Low, nil
}

func (p *replay) Choice(name string, choices []string) (string, error) {
	v, ok := p.value(name, hpo.CategoricalDistribution(choices...))
	if s, isString := v.(string); ok && isString {
		return s, nil
	}
	return choices[0], nil
}

// checkSpaceAgainstTrials replays every trial of the study through the
// configuration's space and refuses a difference, naming the parameter: a
// distribution that changed, a parameter the space now asks that a finished
// trial lacks, or one a trial has that the space no longer asks.
func checkSpaceAgainstTrials(cfg *Config, trials []hpo.FrozenTrial) error {
	refuse := func(param string, t *hpo.FrozenTrial, format string, args ...any) error {
		return fieldErr(paramField(param), "parameter %q of study %q: %s (trial %d); "+
			"resume with the space the study was run with, or start a new study with --study NAME",
			param, cfg.Study, fmt.Sprintf(format, args...), t.Number)
	}
	for i := range trials {
		t := &trials[i]
		if t.State == hpo.Waiting {
			continue
		}
		p := &replay{trial: t, asked: map[string]hpo.Distribution{}}
		if _, err := suggestModel(p, cfg.Task, cfg.Space); err != nil {
			return fmt.Errorf("study %q: checking trial %d against the space: %w", cfg.Study, t.Number, err)
		}
		for _, name := range slices.Sorted(maps.Keys(p.asked)) {
			now := p.asked[name]
			was, has := t.Distributions[name]
			switch {
			case has && !was.Equal(now):
				return refuse(name, t, "the study's trials drew it from %s, the configuration asks %s", was, now)
			case !has && (t.State == hpo.Complete || t.State == hpo.Pruned):
				return refuse(name, t, "the configuration asks it (%s), the study's trials do not have it", now)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(t.Distributions)) {
			if _, ok := p.asked[name]; !ok {
				return refuse(name, t, "the study's trials drew it from %s, the configuration no longer asks it", t.Distributions[name])
			}
		}
	}
	return nil
}

// countedTrials counts the trials that fill the study's target (complete or
// pruned, as hpo.WithMaxTrials counts them): a resumed study runs what is
// left of cfg.Trials, and a trial that failed (killed, interrupted, or an
// error) is run again.
func countedTrials(trials []hpo.FrozenTrial) int {
	n := 0
	for _, t := range trials {
		if t.State == hpo.Complete || t.State == hpo.Pruned {
			n++
		}
	}
	return n
}

// *hpo.Trial is what nn.PruneWith reports to.
var _ nn.Reporter = (*hpo.Trial)(nil)

// objective is the study's objective: build the trial's model, train it on
// train, report the validation metric each epoch, and stop when the pruner
// says so or when the trial's context is done (the run interrupted, or the
// study's timeout past): lib/hpo then records the trial as interrupted, with
// the reason this returns, and ends the study.
func (r *Run) objective(train, val *nn.Data) hpo.Objective {
	cfg := &r.Config
	log := r.log
	return func(t *hpo.Trial) (float64, error) {
		start := time.Now()
		ctx := t.Context()
		r.mu.Lock()
		r.ran = append(r.ran, t.Number())
		r.mu.Unlock()
		if err := t.Study().SetTrialSystemAttr(t.Number(), attrSeed, float64(cfg.Seed)); err != nil {
			return math.NaN(), fmt.Errorf("record the seed: %w", err)
		}
		m, err := suggestModel(trialSuggester{t}, cfg.Task, cfg.Space)
		if err != nil {
			return math.NaN(), err
		}
		// Seeded by the number the trial would have without the trials cut
		// short before it: an interrupted study trains the same models as an
		// uninterrupted one.
		seed := cfg.Seed + int64(t.UninterruptedNumber())
		model, err := nn.New(r.Backend.Backend, m.Spec, seed)
		if err != nil {
			return math.NaN(), err
		}
		model.Padding = r.Padding
		// Models of one shape share their compiled graphs (lib/nn pools
		// them), so a trial of a shape already seen compiles nothing.
		// The trial reports the metric each epoch; nn.PruneWith stops Fit
		// when the median pruner says so, and the trial is then returned
		// as hpo.ErrPruned.
		metric := func(st nn.EpochStats) float64 {
			if cfg.Task == TaskClassification {
				return st.ValAccuracy
			}
			return st.ValLoss
		}
		prune := nn.PruneWith(t, metric)
		hist, err := nn.Fit(model, train, val, m.Hyperparameters, nn.Options{
			Seed: seed, Callbacks: []nn.Callback{prune}, Progress: nn.ProgressOff, Context: ctx,
		})
		if err != nil {
			if ctx.Err() != nil {
				// The reason lib/hpo records: it starts with hpo.ReasonInterrupted.
				epochs := 0
				if hist != nil {
					epochs = len(hist.Epochs)
				}
				by := ""
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					by = fmt.Sprintf(" by the study's timeout (%gs)", cfg.TimeoutSeconds)
				}
				err = fmt.Errorf("%s%s after %d of %d epochs", hpo.ReasonInterrupted, by, epochs, m.Hyperparameters.Epochs)
			}
			fmt.Fprintf(log, "trial %d (%d/%d): failed: %v\n", t.Number(), t.Number()+1, cfg.Trials, err)
			return math.NaN(), err
		}
		last := metric(hist.Last())
		state := "complete"
		if hist.Pruned {
			state = fmt.Sprintf("pruned at epoch %d", len(hist.Epochs))
		}
		fmt.Fprintf(log, "trial %d (%d/%d): %s %.4f, %s, %.1fs\n", t.Number(), t.Number()+1, cfg.Trials, objectiveName(cfg.Task), last, state, time.Since(start).Seconds())
		if hist.Pruned {
			return last, hpo.ErrPruned
		}
		return last, nil
	}
}

// runStudy checks the study against the configuration, runs what is left of
// its target and, unless this process is only a worker, waits for the trials
// of the other workers and checks that one trial completed.
func (r *Run) runStudy(train, val *nn.Data, worker bool) error {
	cfg := &r.Config
	if r.Study != nil {
		r.Study.Storage().Close() // RunStudy again: reopen the storage
		r.Study = nil
	}
	r.Best = Model{}
	r.mu.Lock()
	r.ran = nil
	r.mu.Unlock()
	study, err := openStudy(r.ctx(), cfg, r.res.dir, r.log)
	if err != nil {
		return err
	}
	r.Study = study
	if err := r.checkResume(study); err != nil {
		return err
	}
	trials, err := study.Trials()
	if err != nil {
		return fmt.Errorf("study %q: %w", cfg.Study, err)
	}
	done := countedTrials(trials)
	if done == 0 && cfg.EnqueueSeedBest {
		// Once, however many processes start the study together; again
		// after a kill that cut it short.
		if err := study.EnqueueTrial(seedBestParams(cfg.Task, cfg.Space), hpo.SkipIfExists()); err != nil {
			return fmt.Errorf("study: enqueue the seed's best: %w", err)
		}
	}
	// The timeout is a deadline on the trials' context, so that it also
	// stops the running trial at its next batch, and on the wait for the
	// other workers.
	ctx, cancel := r.ctx(), context.CancelFunc(func() {})
	if timeout := cfg.timeout(); timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	objective := r.objective(train, val)
	if left := cfg.Trials - done; left > 0 {
		if running := runningTrials(trials); done > 0 || len(running) > 0 {
			line := fmt.Sprintf("resuming study %q: %d trials done, %d to go", cfg.Study, done, left)
			if len(running) > 0 {
				line += fmt.Sprintf(" (%s running in other workers)", trialList(running))
			}
			fmt.Fprintln(r.log, line)
		}
		if err := r.optimize(ctx, study, objective, left); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(r.log, "study %q already has %d trials: not running more\n", cfg.Study, done)
	}
	if worker {
		return nil
	}
	if err := r.awaitTrials(ctx, study, objective); err != nil {
		return err
	}
	_, err = r.bestParams()
	return err
}

// bestParams are the parameters of the study's best trial, or an error
// saying how to get one.
func (r *Run) bestParams() (map[string]any, error) {
	cfg := &r.Config
	best, err := r.Study.BestParams()
	if errors.Is(err, hpo.ErrNoCompleteTrials) {
		hint := "raise trials or pruner_startup_trials"
		if cfg.TimeoutSeconds > 0 {
			hint = "raise timeout_seconds or trials"
		}
		return nil, fmt.Errorf("study %q: no trial completed (all pruned or failed): %s", cfg.Study, hint)
	}
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	return best, nil
}

// studyLine is the start of the study's first log line: its target, and
// where it is kept when that is not the results folder.
func (r *Run) studyLine(worker bool) string {
	line := fmt.Sprintf("%d trials", r.Config.Trials)
	if r.Config.SharedStorage() {
		line += " in " + r.Config.redactedStorage()
	}
	if worker {
		line += ", as a worker (no cross-validation, no results)"
	}
	return line
}

// timeout is TimeoutSeconds as a duration (0: none).
func (c *Config) timeout() time.Duration {
	return time.Duration(c.TimeoutSeconds * float64(time.Second))
}

// optimize runs at most n trials of the study, fewer once the shared target
// is reached, until ctx is done: an interrupt is an error wrapping
// ErrInterrupted, the study's timeout only a line of the log.
func (r *Run) optimize(ctx context.Context, study *hpo.Study, objective hpo.Objective, n int) error {
	cfg := &r.Config
	r.mu.Lock()
	r.optimizing = study
	r.mu.Unlock()
	err := study.Optimize(ctx, objective, hpo.NTrials(n), hpo.Timeout(cfg.timeout()))
	r.mu.Lock()
	r.optimizing = nil
	r.mu.Unlock()
	switch {
	case r.ctx().Err() != nil:
		return r.interrupted(fmt.Sprintf("study %q", cfg.Study))
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(r.log, "study %q: timeout of %gs reached\n", cfg.Study, cfg.TimeoutSeconds)
	case err != nil:
		return fmt.Errorf("study: %w", err)
	}
	return nil
}

// How a process waits for the trials of the other workers: it reads the
// study every awaitPoll, fails the trials of dead workers every awaitReap
// (or every heartbeat grace period, when shorter), and says what it waits
// for every awaitLog.
var (
	awaitPoll = time.Second
	awaitReap = 10 * time.Second
	awaitLog  = 30 * time.Second
)

// awaitTrials waits until no trial of the study is running, so that the best
// trial, the cross-validation and the results see every trial of the target,
// those of the other workers included. The trials of dead workers are failed
// meanwhile (reapDead); those the storage re-queues are run here. It ends
// early at the study's timeout (the results then leave out the trials still
// running) or at an interrupt (an error wrapping ErrInterrupted).
func (r *Run) awaitTrials(ctx context.Context, study *hpo.Study, objective hpo.Objective) error {
	cfg := &r.Config
	reapEvery := awaitReap
	if _, grace := cfg.heartbeat(); cfg.storageKind() == inDatabase && grace < reapEvery {
		reapEvery = grace
	}
	var logged time.Time
	reaped := time.Now()
	for {
		trials, err := study.Trials()
		if err != nil {
			return fmt.Errorf("study %q: %w", cfg.Study, err)
		}
		running := runningTrials(trials)
		waiting := 0
		for _, t := range trials {
			if t.State == hpo.Waiting {
				waiting++
			}
		}
		if waiting > 0 && countedTrials(trials)+len(running) < cfg.Trials && ctx.Err() == nil {
			// Trials of dead workers, re-queued with their parameters.
			if err := r.optimize(ctx, study, objective, waiting); err != nil {
				return err
			}
			continue
		}
		if len(running) == 0 {
			return nil
		}
		now := time.Now()
		if ctx.Err() == nil && now.Sub(logged) >= awaitLog {
			fmt.Fprintf(r.log, "study %q: waiting for %s, running in other workers\n", cfg.Study, trialList(running))
			logged = now
		}
		if now.Sub(reaped) >= reapEvery {
			if err := r.reapDead(study); err != nil {
				return err
			}
			reaped = now
		}
		select {
		case <-ctx.Done():
			if r.ctx().Err() != nil {
				return r.interrupted(fmt.Sprintf("study %q: waiting for the other workers", cfg.Study))
			}
			fmt.Fprintf(r.log, "study %q: timeout of %gs reached: the results leave out %s, still running in other workers\n",
				cfg.Study, cfg.TimeoutSeconds, trialList(running))
			return nil
		case <-time.After(awaitPoll):
		}
	}
}

// runningTrials lists the numbers of the RUNNING trials.
func runningTrials(trials []hpo.FrozenTrial) []int {
	var out []int
	for _, t := range trials {
		if t.State == hpo.Running {
			out = append(out, t.Number)
		}
	}
	return out
}

// trialList names trials for the log: "trial 3", "trials 3, 5".
func trialList(numbers []int) string {
	parts := make([]string, len(numbers))
	for i, n := range numbers {
		parts[i] = fmt.Sprint(n)
	}
	if len(numbers) == 1 {
		return "trial " + parts[0]
	}
	return "trials " + strings.Join(parts, ", ")
}
