package hpo

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// ErrPruned is what an objective returns (possibly wrapped) when ShouldPrune said so, as Optuna's
// TrialPruned exception.
var ErrPruned = errors.New("trial pruned")

// ErrNoCompleteTrials is returned by BestTrial and friends before any trial completed.
var ErrNoCompleteTrials = errors.New("no complete trials yet")

// Objective is a define-by-run objective: it asks the trial for parameters and returns the value
// to minimize or maximize. Returning ErrPruned marks the trial pruned; any other error, a NaN
// value or a panic marks it failed and the study goes on.
type Objective func(t *Trial) (float64, error)

// Study is a hyperparameter search: it asks a sampler for parameters, runs the objective, asks a
// pruner whether to stop a trial early, and keeps every trial in a storage.
type Study struct {
	name      string
	direction Direction
	sampler   Sampler
	pruner    Pruner
	storage   Storage
	log       io.Writer
	stop      atomic.Bool
}

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
}

// WithDirection sets Minimize (default) or Maximize.
func WithDirection(d Direction) Option { return func(c *studyConfig) { c.direction = d } }

// WithSampler sets the sampler (default: TPE with Optuna's defaults).
func WithSampler(s Sampler) Option { return func(c *studyConfig) { c.sampler = s } }

// WithPruner sets the pruner (default: MedianPruner with Optuna's defaults).
func WithPruner(p Pruner) Option { return func(c *studyConfig) { c.pruner = p } }

// WithStorage sets where trials live (default: in memory). Reopening a journal file resumes.
func WithStorage(s Storage) Option { return func(c *studyConfig) { c.storage = s } }

// WithSeed seeds the default TPE sampler; it has no effect when WithSampler is given.
func WithSeed(seed uint64) Option { return func(c *studyConfig) { c.seed = &seed } }

// WithName names the study in reports.
func WithName(name string) Option { return func(c *studyConfig) { c.name = name } }

// WithLog sends one line per finished trial to w (default: nowhere).
func WithLog(w io.Writer) Option { return func(c *studyConfig) { c.log = w } }

// NewStudy creates a study, or resumes the one held by the given storage.
func NewStudy(opts ...Option) (*Study, error) {
	c := studyConfig{direction: Minimize, name: "study"}
	for _, o := range opts {
		o(&c)
	}
	if c.sampler == nil {
		seed := rand.Uint64()
		if c.seed != nil {
			seed = *c.seed
		}
		c.sampler = NewTPESampler(seed)
	}
	if c.pruner == nil {
		c.pruner = NewMedianPruner()
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
		storage: c.storage, log: c.log}, nil
}

// Name returns the study name.
func (s *Study) Name() string { return s.name }

// Direction returns Minimize or Maximize.
func (s *Study) Direction() Direction { return s.direction }

// Storage returns the storage the study writes to.
func (s *Study) Storage() Storage { return s.storage }

// Trials returns copies of all trials, in number order.
func (s *Study) Trials() ([]FrozenTrial, error) { return s.storage.Trials() }

// readTrials is Trials without copying finished trials where the storage allows it; for
// samplers and pruners, which only read.
func (s *Study) readTrials() ([]FrozenTrial, error) {
	if sh, ok := s.storage.(sharedStorage); ok {
		return sh.sharedTrials()
	}
	return s.storage.Trials()
}

// SetTrialSystemAttr keeps a number on a running trial; pruners such as successive halving use it.
func (s *Study) SetTrialSystemAttr(number int, key string, v float64) error {
	return s.storage.SetSystemAttr(number, key, v)
}

// Stop makes Optimize return after the running trial, as Optuna's study.stop().
func (s *Study) Stop() { s.stop.Store(true) }

// EnqueueTrial fixes the parameters of a future trial; parameters it does not name are sampled.
// Values are float64, int or the label of a categorical choice.
func (s *Study) EnqueueTrial(params map[string]any) error {
	fixed := make(map[string]any, len(params))
	for k, v := range params {
		fixed[k] = v
	}
	_, err := s.storage.EnqueueTrial(fixed)
	return err
}

// Ask starts a trial for an objective that the caller runs itself; finish it with Tell.
func (s *Study) Ask() (*Trial, error) {
	ft, err := s.storage.CreateTrial()
	if err != nil {
		return nil, fmt.Errorf("study %q: create trial: %w", s.name, err)
	}
	all, err := s.readTrials()
	if err != nil {
		return nil, fmt.Errorf("study %q trial %d: read trials: %w", s.name, ft.Number, err)
	}
	h := &History{Direction: s.direction}
	for _, t := range all {
		if t.Number != ft.Number {
			h.Trials = append(h.Trials, t)
		}
	}
	t := &Trial{study: s, frozen: ft, history: h}
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
// anything else fails it with the reason recorded. A storage error is returned.
func (s *Study) Tell(t *Trial, value float64, objErr error) (FrozenTrial, error) {
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
	case objErr != nil:
		state, reason = Failed, objErr.Error()
	case math.IsNaN(value):
		state, reason = Failed, "objective returned NaN"
	}
	if err := s.storage.FinishTrial(t.frozen.Number, state, value, reason); err != nil {
		return FrozenTrial{}, fmt.Errorf("study %q trial %d: finish: %w", s.name, t.frozen.Number, err)
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

// Optimize runs the objective nTrials times (nTrials <= 0: no limit) or until timeout has passed
// (timeout <= 0: no limit), whichever comes first, or until Stop or an exhausted grid. Failed and
// pruned trials count towards nTrials. Only storage errors stop it early and are returned.
func (s *Study) Optimize(objective Objective, nTrials int, timeout time.Duration) error {
	if nTrials <= 0 && timeout <= 0 {
		if _, ok := s.sampler.(*GridSampler); !ok {
			return fmt.Errorf("study %q: Optimize needs nTrials > 0 or a timeout", s.name)
		}
	}
	s.stop.Store(false)
	start := time.Now()
	for i := 0; nTrials <= 0 || i < nTrials; i++ {
		if timeout > 0 && time.Since(start) >= timeout {
			break
		}
		if s.stop.Load() {
			break
		}
		t, err := s.Ask()
		if err != nil {
			return err
		}
		value, objErr := runObjective(objective, t)
		if _, err := s.Tell(t, value, objErr); err != nil {
			return err
		}
		if g, ok := s.sampler.(*GridSampler); ok {
			trials, err := s.storage.Trials()
			if err != nil {
				return err
			}
			if g.exhausted(trials) {
				break
			}
		}
	}
	return nil
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
		if best < 0 || s.direction.better(trials[i].Value, trials[best].Value) {
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

// defaultLog is where library warnings go (torn journal lines, dead workers).
var defaultLog io.Writer = os.Stderr
