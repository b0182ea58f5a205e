package hpo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrPruned is what an objective returns (possibly wrapped) when ShouldPrune said so, as Optuna's
// TrialPruned exception.
var ErrPruned = errors.New("trial pruned")

// ErrNoCompleteTrials is returned by BestTrial and friends before any trial completed.
var ErrNoCompleteTrials = errors.New("no complete trials yet")

// ReasonInterrupted is the FailReason of a trial cut short by the cancellation of
// Optimize's context, or by Study.Interrupt; it is followed by ": " and the cause when
// the context was cancelled with one (context.WithCancelCause), and it is the objective's
// error text instead when that text starts with it. A failed trial whose reason starts with
// it counts as cut short: the next trial of its worker draws its parameters again.
const ReasonInterrupted = "interrupted"

// Objective is a define-by-run objective: it asks the trial for parameters and returns the value
// to minimize or maximize. Returning ErrPruned marks the trial pruned; any other error, a NaN
// value or a panic marks it failed and the study goes on. An error returned once the trial's
// context (Trial.Context) is done marks it failed as interrupted and ends Optimize.
type Objective func(t *Trial) (float64, error)

// Study is a hyperparameter search: it asks a sampler for parameters, runs the objective, asks a
// pruner whether to stop a trial early, and keeps every trial in a storage.
//
// A study is one worker of its storage: it registers when it starts its first trial, and
// several studies (in several processes) on one storage share the trials, draw distinct
// random streams (stream.go) and share the target set by WithMaxTrials. A sampler belongs to
// one study.
type Study struct {
	name      string
	direction Direction
	sampler   Sampler
	pruner    Pruner
	storage   Storage
	log       io.Writer
	maxTrials int
	stop      atomic.Bool

	mu     sync.Mutex
	worker int // -1 until the first trial registers the study with its storage
	// inFlight holds the trials asked and not yet finished; the sampler's streams are put
	// back where the storage says only when it is empty.
	inFlight map[int]*flight
}

// flight is a trial between Ask and the end of Tell (or Interrupt).
type flight struct{ finishing bool }

// Option configures NewStudy (functional options: each With... sets one thing).
type Option func(*studyConfig)

type studyConfig struct {
	name      string
	direction Direction
	sampler   Sampler
	pruner    Pruner
	storage   Storage
	seed      *uint64
	log       io.Writer
	maxTrials int
}

// WithDirection sets Minimize (default) or Maximize.
func WithDirection(d Direction) Option { return func(c *studyConfig) { c.direction = d } }

// WithSampler sets the sampler. The default is a RandomSampler (seeded by WithSeed, else at
// random), not Optuna's TPE: lib/hpo does not import its samplers (lib/hpo/samplers imports
// lib/hpo); give samplers.NewTPE() for Optuna's default.
func WithSampler(s Sampler) Option { return func(c *studyConfig) { c.sampler = s } }

// WithPruner sets the pruner. The default is NopPruner (no pruning), not Optuna's
// MedianPruner, for the same reason; give pruners.NewMedian() for Optuna's default.
func WithPruner(p Pruner) Option { return func(c *studyConfig) { c.pruner = p } }

// WithStorage sets where trials live (default: in memory). Reopening a journal file resumes.
func WithStorage(s Storage) Option { return func(c *studyConfig) { c.storage = s } }

// WithSeed seeds the default sampler; NewStudy refuses it together with WithSampler (seed that
// sampler instead), so that a seed is never silently ignored.
func WithSeed(seed uint64) Option { return func(c *studyConfig) { c.seed = &seed } }

// WithName names the study in reports.
func WithName(name string) Option { return func(c *studyConfig) { c.name = name } }

// WithMaxTrials sets the study's target, shared by every worker on its storage (Optuna's
// MaxTrialsCallback): no trial starts once n trials of the storage are COMPLETE, PRUNED or
// RUNNING, and Optimize then returns nil. Failed trials do not count, so a trial killed
// mid-run does not take a place for good. Counting the running trials too makes workers stop
// at n exactly (Optuna's callback counts finished trials only, and N workers may overshoot by
// N-1); a RUNNING trial of a worker that died on another host holds its place until finished.
// With a target, Optimize needs no NTrials (no per-call limit); keep one anyway when the
// objective may fail every time, since failures never reach the target.
func WithMaxTrials(n int) Option { return func(c *studyConfig) { c.maxTrials = n } }

// WithLog sends one line per finished trial to w (default: nowhere).
func WithLog(w io.Writer) Option { return func(c *studyConfig) { c.log = w } }

// NewStudy creates a study, or resumes the one held by the given storage.
func NewStudy(opts ...Option) (*Study, error) {
	c := studyConfig{direction: Minimize, name: "study"}
	for _, o := range opts {
		o(&c)
	}
	if c.sampler != nil && c.seed != nil {
		return nil, fmt.Errorf("study %q: WithSeed has no effect with WithSampler: seed the sampler", c.name)
	}
	if c.sampler == nil {
		seed := rand.Uint64()
		if c.seed != nil {
			seed = *c.seed
		}
		c.sampler = NewRandomSampler(seed)
	}
	if c.pruner == nil {
		c.pruner = NopPruner{}
	}
	if c.storage == nil {
		c.storage = NewMemoryStorage()
	}
	if c.log == nil {
		c.log = io.Discard
	}
	if err := c.storage.SetDirection(c.direction); err != nil {
		return nil, fmt.Errorf("study %q: %w", c.name, err)
	}
	return &Study{name: c.name, direction: c.direction, sampler: c.sampler, pruner: c.pruner,
		storage: c.storage, log: c.log, maxTrials: c.maxTrials, worker: -1, inFlight: map[int]*flight{}}, nil
}

// Name returns the study name.
func (s *Study) Name() string { return s.name }

// Direction returns Minimize or Maximize.
func (s *Study) Direction() Direction { return s.direction }

// Storage returns the storage the study writes to.
func (s *Study) Storage() Storage { return s.storage }

// Trials returns copies of all trials, in number order.
func (s *Study) Trials() ([]FrozenTrial, error) { return s.storage.Trials() }

// SharedTrials is Trials without copying the finished trials where the storage allows it (the
// memory and journal storages): the trials and their maps may be shared with the storage and
// with other callers, and must not be modified. For samplers and pruners (lib/hpo/pruners),
// which only read, and read every trial at every step.
func (s *Study) SharedTrials() ([]FrozenTrial, error) {
	if sh, ok := s.storage.(SharedStorage); ok {
		return sh.SharedTrials()
	}
	return s.storage.Trials()
}

// SetTrialSystemAttr keeps a number on a running trial; pruners such as successive halving use it.
func (s *Study) SetTrialSystemAttr(number int, key string, v float64) error {
	return s.storage.SetSystemAttr(number, key, v)
}

// Stop makes Optimize return after the running trial, as Optuna's study.stop().
func (s *Study) Stop() { s.stop.Store(true) }

// EnqueueOption changes what EnqueueTrial does.
type EnqueueOption func(*enqueueConfig)

type enqueueConfig struct{ skipIfExists bool }

// SkipIfExists makes EnqueueTrial add nothing when a trial with the same parameters is already
// waiting, running, complete or pruned (Optuna's skip_if_exists, except that a failed trial
// does not count, so that a trial killed mid-run is enqueued again). The test and the
// addition are one step of the storage, so workers that all enqueue the same trial when they
// start add it once.
func SkipIfExists() EnqueueOption { return func(c *enqueueConfig) { c.skipIfExists = true } }

// EnqueueTrial fixes the parameters of a future trial; parameters it does not name are sampled.
// Values are float64, int or the label of a categorical choice. An enqueued trial is run once,
// by whichever worker starts a trial first.
func (s *Study) EnqueueTrial(params map[string]any, opts ...EnqueueOption) error {
	var c enqueueConfig
	for _, o := range opts {
		o(&c)
	}
	if _, _, err := s.storage.EnqueueTrial(ownCopy(params), c.skipIfExists); err != nil {
		return fmt.Errorf("study %q: enqueue: %w", s.name, err)
	}
	return nil
}

// Ask starts a trial for an objective that the caller runs itself; finish it with Tell. With
// WithMaxTrials, Ask returns an error wrapping ErrMaxTrials once the target is reached.
func (s *Study) Ask() (*Trial, error) { return s.ask(context.Background()) }

// join registers the study as a worker of its storage, once, and gives the sampler the
// worker's streams.
func (s *Study) join() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.worker >= 0 {
		return nil
	}
	k, err := s.storage.RegisterWorker()
	if err != nil {
		return fmt.Errorf("study %q: register worker: %w", s.name, err)
	}
	s.worker = k
	if ss, ok := s.sampler.(StreamSampler); ok && k != 0 {
		ss.UseWorker(k)
	}
	return nil
}

func (s *Study) ask(ctx context.Context) (*Trial, error) {
	if err := s.join(); err != nil {
		return nil, err
	}
	ft, err := s.storage.CreateTrial(s.maxTrials)
	if err != nil {
		return nil, fmt.Errorf("study %q: create trial: %w", s.name, err)
	}
	all, err := s.SharedTrials()
	if err != nil {
		err = fmt.Errorf("study %q trial %d: read trials: %w", s.name, ft.Number, err)
		if ferr := s.storage.FinishTrial(ft.Number, Failed, math.NaN(), err.Error()); ferr != nil {
			return nil, errors.Join(err, ferr)
		}
		return nil, err
	}
	h := &Snapshot{Direction: s.direction}
	uninterrupted := 0
	for i := range all {
		if t := &all[i]; t.Number != ft.Number {
			h.Trials = append(h.Trials, *t)
			if t.Number < ft.Number && t.State != Waiting && !cutShort(t) {
				uninterrupted++
			}
		}
	}
	s.mu.Lock()
	if ss, ok := s.sampler.(StreamSampler); ok && len(s.inFlight) == 0 {
		// Where this worker's finished trials left the streams: a no-op in an uninterrupted
		// study, a skip ahead on resume, a step back after an interrupted trial (stream.go).
		ss.SeekStreams(recordedStreamWords(all, s.worker, len(ss.StreamWords())))
	}
	s.inFlight[ft.Number] = &flight{}
	s.mu.Unlock()
	t := &Trial{study: s, frozen: ft, snapshot: h, ctx: ctx, uninterrupted: uninterrupted}
	rel, err := s.sampler.SampleRelative(h, &t.frozen)
	if err != nil {
		t.setErr(fmt.Errorf("sampler: %w", err))
	}
	t.relative = rel
	// Samplers mark the trial (the grid records its combination); persist what they set.
	for k, v := range t.frozen.SystemAttrs {
		if err := s.storage.SetSystemAttr(ft.Number, k, v); err != nil {
			t.setErr(err)
		}
	}
	return t, nil
}

// Tell finishes a trial from Ask with the objective's outcome: a nil error and a finite value
// complete it, ErrPruned prunes it (its value becomes the last intermediate value, as Optuna),
// an error returned once the trial's context is done fails it with reason ReasonInterrupted,
// anything else fails it with the reason recorded. A storage error is returned. Except for an
// interrupted trial, it also records on the trial where the sampler's random streams stand
// (stream.go), so that a resumed study goes on from there.
func (s *Study) Tell(t *Trial, value float64, objErr error) (FrozenTrial, error) {
	n := t.frozen.Number
	s.mu.Lock()
	f := s.inFlight[n]
	if f == nil || f.finishing {
		s.mu.Unlock()
		return FrozenTrial{}, fmt.Errorf("study %q trial %d: already finished (told twice, or failed by Interrupt)", s.name, n)
	}
	f.finishing = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inFlight, n)
		s.mu.Unlock()
	}()
	state, reason := Complete, ""
	switch {
	case t.err != nil:
		state, reason = Failed, t.err.Error()
	case errors.Is(objErr, ErrPruned):
		state = Pruned
		value = math.NaN()
		if last := t.frozen.LastStep(); last >= 0 {
			value = t.frozen.Intermediate[last]
		}
	case objErr != nil && t.Context().Err() != nil:
		state, reason = Failed, ReasonInterrupted
		if msg := objErr.Error(); strings.HasPrefix(msg, ReasonInterrupted) {
			reason = msg // the objective's own account ("interrupted after 3 of 10 epochs")
		} else if cause := context.Cause(t.Context()); cause != nil && cause != t.Context().Err() {
			reason += ": " + cause.Error()
		}
	case objErr != nil:
		state, reason = Failed, objErr.Error()
	case math.IsNaN(value):
		state, reason = Failed, "objective returned NaN"
	}
	var attrErr error
	if ss, ok := s.sampler.(StreamSampler); ok && !strings.HasPrefix(reason, ReasonInterrupted) && s.worker >= 0 {
		// An interrupted trial records nothing, so the next trial draws what it drew.
		attrErr = s.storage.SetSystemAttr(n, attrWorker, float64(s.worker))
		for i, w := range ss.StreamWords() {
			if attrErr == nil {
				attrErr = s.storage.SetSystemAttr(n, attrStreamWords(i), float64(w))
			}
		}
	}
	if err := s.storage.FinishTrial(n, state, value, reason); err != nil {
		return FrozenTrial{}, fmt.Errorf("study %q trial %d: finish: %w", s.name, n, errors.Join(attrErr, err))
	}
	if attrErr != nil {
		return FrozenTrial{}, fmt.Errorf("study %q trial %d: record the sampler's position: %w", s.name, n, attrErr)
	}
	ft, err := s.storage.Trial(t.frozen.Number)
	if err != nil {
		return FrozenTrial{}, err
	}
	switch state {
	case Failed:
		fmt.Fprintf(s.log, "Trial %d failed: %s\n", ft.Number, reason)
	case Pruned:
		fmt.Fprintf(s.log, "Trial %d pruned at step %d.\n", ft.Number, ft.LastStep())
	default:
		fmt.Fprintf(s.log, "Trial %d finished with value: %v and parameters: %v.\n", ft.Number, ft.Value, ft.ExternalParams())
	}
	return ft, nil
}

// OptimizeOption sets one thing of an Optimize call: NTrials, Timeout, Callbacks, Catch.
type OptimizeOption func(*optimizeConfig)

type optimizeConfig struct {
	nTrials   int
	timeout   time.Duration
	callbacks []Callback
	catch     func(error) bool
}

// NTrials ends Optimize after n trials of this call (Optuna's n_trials); failed and pruned
// trials count. n <= 0, as leaving it out: no limit.
func NTrials(n int) OptimizeOption { return func(c *optimizeConfig) { c.nTrials = n } }

// Timeout keeps new trials from starting once d has passed since Optimize began (Optuna's
// timeout); a running trial is not stopped (give the context a deadline for that). d <= 0, as
// leaving it out: no limit.
func Timeout(d time.Duration) OptimizeOption { return func(c *optimizeConfig) { c.timeout = d } }

// Callback is called after every trial that Optimize finishes, in the goroutine of Optimize,
// with the trial as the storage recorded it, as Optuna's callbacks (func(study, trial)). It may
// call Study.Stop to end Optimize after this trial.
type Callback func(s *Study, t FrozenTrial)

// Callbacks adds after-trial callbacks, called in order after the sampler's own AfterTrial.
func Callbacks(cb ...Callback) OptimizeOption {
	return func(c *optimizeConfig) { c.callbacks = append(c.callbacks, cb...) }
}

// Catch decides which objective errors only fail their trial (catch returns true: the study
// goes on, the default for every error) and which also end Optimize, which then returns the
// error once the trial is recorded as FAIL (as an exception outside Optuna's catch). A NaN
// value and a panic reach catch as errors; ErrPruned and interruptions never do.
//
// The default differs from Optuna's (catch=(): every exception ends optimize) because a Go
// objective reports failure with an error value, and a study of many trials should not end
// because one diverged; Catch(func(error) bool { return false }) gives Optuna's behaviour.
func Catch(catch func(err error) bool) OptimizeOption {
	return func(c *optimizeConfig) { c.catch = catch }
}

// AfterTrialSampler is a Sampler that is told of every trial its study finishes in Optimize,
// before the callbacks, as Optuna's BaseSampler.after_trial: the grid sampler (lib/hpo/samplers)
// stops the study (Study.Stop) once every combination was tried. An error ends Optimize.
type AfterTrialSampler interface {
	Sampler
	AfterTrial(s *Study, t FrozenTrial) error
}

// Optimize runs the objective, one trial after another, until one of these ends it: NTrials
// trials of this call, Timeout, Stop (from the objective, a callback or another goroutine), an
// exhausted grid (the sampler's AfterTrial calls Stop), the study's target (WithMaxTrials,
// shared with the other workers) or the cancellation of ctx. With none of them it runs until
// ctx is cancelled, as Optuna's optimize() without n_trials and timeout.
//
// Interruption: the objective sees ctx as Trial.Context and should stop at the next epoch once
// it is done, returning an error (ctx.Err(), say). The running trial is then recorded as FAIL
// with reason ReasonInterrupted, or as finished if the objective returned a value (or
// ErrPruned) anyway, so no trial is left RUNNING; and Optimize returns an error that wraps
// ctx.Err() (errors.Is(err, context.Canceled), or context.DeadlineExceeded for a deadline).
// An interrupted trial is drawn again by the next trial of the study, in this process or in a
// resumed one (stream.go). A Timeout, by contrast, only keeps new trials from starting.
//
// Storage errors stop it early and are returned; objective errors only fail their trial unless
// Catch says otherwise.
func (s *Study) Optimize(ctx context.Context, objective Objective, opts ...OptimizeOption) error {
	var c optimizeConfig
	for _, o := range opts {
		o(&c)
	}
	after, _ := s.sampler.(AfterTrialSampler)
	s.stop.Store(false)
	start := time.Now()
	for i := 0; c.nTrials <= 0 || i < c.nTrials; i++ {
		if ctx.Err() != nil {
			return s.interrupted(ctx, nil)
		}
		if c.timeout > 0 && time.Since(start) >= c.timeout {
			break
		}
		if s.stop.Load() {
			break
		}
		t, err := s.ask(ctx)
		if errors.Is(err, ErrMaxTrials) {
			break
		}
		if err != nil {
			return err
		}
		value, objErr := runObjective(objective, t)
		ft, err := s.Tell(t, value, objErr)
		if errors.Is(err, ErrTrialNotRunning) && ctx.Err() == nil {
			// Another worker finished the trial while this one ran it (its heartbeat went
			// stale): the record stays theirs, and the study goes on.
			fmt.Fprintf(s.log, "Trial %d was finished by another worker while this one ran it (%v); going on with a new trial.\n", t.Number(), err)
			continue
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return s.interrupted(ctx, &ft)
		}
		if after != nil {
			if err := after.AfterTrial(s, ft); err != nil {
				return fmt.Errorf("study %q trial %d: sampler: %w", s.name, ft.Number, err)
			}
		}
		for _, cb := range c.callbacks {
			cb(s, ft)
		}
		if ft.State == Failed && c.catch != nil {
			cause := objErr
			if cause == nil {
				cause = errors.New(ft.FailReason)
			}
			if !c.catch(cause) {
				return fmt.Errorf("study %q trial %d failed: %w", s.name, ft.Number, cause)
			}
		}
	}
	return nil
}

// interrupted is Optimize's error once ctx is done.
func (s *Study) interrupted(ctx context.Context, last *FrozenTrial) error {
	why := ""
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		why = " (" + cause.Error() + ")"
	}
	if last == nil {
		return fmt.Errorf("study %q interrupted before a new trial%s: %w", s.name, why, ctx.Err())
	}
	return fmt.Errorf("study %q interrupted%s; trial %d recorded as %s: %w", s.name, why, last.Number, last.State, ctx.Err())
}

// Interrupt records every trial this study is running as FAIL with reason ReasonInterrupted,
// at once: for a process that exits without waiting for its objective (a second Ctrl-C). The
// objective's later writes to those trials fail, and Tell returns an error for them.
func (s *Study) Interrupt() error {
	s.mu.Lock()
	var numbers []int
	for n, f := range s.inFlight {
		if !f.finishing {
			f.finishing = true
			numbers = append(numbers, n)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, n := range numbers {
		if err := s.storage.FinishTrial(n, Failed, math.NaN(), ReasonInterrupted); err != nil {
			errs = append(errs, fmt.Errorf("study %q trial %d: %w", s.name, n, err))
		}
	}
	s.mu.Lock()
	for _, n := range numbers {
		delete(s.inFlight, n)
	}
	s.mu.Unlock()
	return errors.Join(errs...)
}

// runObjective turns a panic in user code into a failed trial instead of a crashed study.
func runObjective(objective Objective, t *Trial) (value float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			value = math.NaN()
			err = fmt.Errorf("objective panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return objective(t)
}

// BestTrial returns the complete trial with the best value (the lowest number wins a tie).
func (s *Study) BestTrial() (FrozenTrial, error) {
	trials, err := s.storage.Trials()
	if err != nil {
		return FrozenTrial{}, err
	}
	best := -1
	for i := range trials {
		if trials[i].State != Complete {
			continue
		}
		if best < 0 || s.direction.Better(trials[i].Value, trials[best].Value) {
			best = i
		}
	}
	if best < 0 {
		return FrozenTrial{}, fmt.Errorf("study %q: %w", s.name, ErrNoCompleteTrials)
	}
	return trials[best], nil
}

// BestValue returns the value of BestTrial.
func (s *Study) BestValue() (float64, error) {
	t, err := s.BestTrial()
	if err != nil {
		return math.NaN(), err
	}
	return t.Value, nil
}

// BestParams returns the parameters of BestTrial as the objective saw them.
func (s *Study) BestParams() (map[string]any, error) {
	t, err := s.BestTrial()
	if err != nil {
		return nil, err
	}
	return t.ExternalParams(), nil
}
