package hpo

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Storage keeps the trials of one study. It is the only shared state between workers, so every
// method is one small event (create a trial, set a parameter, report a value, finish) and the
// storage, not the caller, assigns trial numbers. A PostgreSQL storage shared by worker processes
// on several machines fits this shape: one row per trial, one per parameter and per reported
// value, trial numbers from a sequence, CreateTrial popping a WAITING row with
// SELECT ... FOR UPDATE SKIP LOCKED. The study name would be a constructor argument, which is why
// no method takes one.
//
// Implementations must be safe for concurrent use by goroutines.
type Storage interface {
	// SetDirection records the study direction, or returns an error when the storage already
	// holds a study with the other direction.
	SetDirection(d Direction) error
	// EnqueueTrial adds a WAITING trial whose parameters are fixed in advance.
	EnqueueTrial(fixed map[string]any) (number int, err error)
	// CreateTrial starts a RUNNING trial: the oldest WAITING one if any, else a new one.
	CreateTrial() (FrozenTrial, error)
	// SetParam records the value (internal representation) drawn for a parameter.
	SetParam(number int, name string, d Distribution, value float64) error
	// Report records an intermediate value; a second report at the same step is ignored.
	Report(number, step int, value float64) error
	// SetSystemAttr keeps a number on the trial for samplers and pruners.
	SetSystemAttr(number int, key string, value float64) error
	// FinishTrial moves a running trial to COMPLETE, PRUNED or FAIL.
	FinishTrial(number int, state TrialState, value float64, reason string) error
	// Trials returns copies of all trials in number order.
	Trials() ([]FrozenTrial, error)
	// Trial returns a copy of one trial.
	Trial(number int) (FrozenTrial, error)
	// Close releases files or connections.
	Close() error
}

// sharedStorage is implemented by storages that can hand the study a snapshot whose finished
// trials share maps with the storage; the study and its samplers only read them.
type sharedStorage interface {
	sharedTrials() ([]FrozenTrial, error)
}

// book is the trial state machine shared by the in-memory storage and the journal replay, so
// that both apply an event the same way.
type book struct {
	direction Direction
	trials    []*FrozenTrial
	waiting   []int // numbers of WAITING trials, oldest first
}

func (b *book) setDirection(d Direction) error {
	if d != Minimize && d != Maximize {
		return fmt.Errorf("direction %q is neither %s nor %s", d, Minimize, Maximize)
	}
	if b.direction != "" && b.direction != d {
		return fmt.Errorf("storage holds a study to %s, asked to %s", b.direction, d)
	}
	b.direction = d
	return nil
}

func (b *book) enqueue(fixed map[string]any, now time.Time) int {
	n := len(b.trials)
	b.trials = append(b.trials, newFrozenTrial(n, Waiting, fixed, now))
	b.waiting = append(b.waiting, n)
	return n
}

func (b *book) create(now time.Time) *FrozenTrial {
	if len(b.waiting) > 0 {
		t := b.trials[b.waiting[0]]
		b.waiting = b.waiting[1:]
		t.State = Running
		t.DatetimeStart = now
		return t
	}
	t := newFrozenTrial(len(b.trials), Running, nil, now)
	b.trials = append(b.trials, t)
	return t
}

func (b *book) running(number int) (*FrozenTrial, error) {
	if number < 0 || number >= len(b.trials) {
		return nil, fmt.Errorf("trial %d does not exist (%d trials)", number, len(b.trials))
	}
	t := b.trials[number]
	if t.State != Running {
		return nil, fmt.Errorf("trial %d is %s, not %s", number, t.State, Running)
	}
	return t, nil
}

func (b *book) setParam(number int, name string, d Distribution, v float64) error {
	t, err := b.running(number)
	if err != nil {
		return err
	}
	if old, ok := t.Distributions[name]; ok && !old.Equal(d) {
		return fmt.Errorf("trial %d parameter %q: distribution %s differs from earlier %s", number, name, d, old)
	}
	t.Params[name] = v
	t.Distributions[name] = d
	return nil
}

func (b *book) report(number, step int, v float64) error {
	t, err := b.running(number)
	if err != nil {
		return err
	}
	if step < 0 {
		return fmt.Errorf("trial %d: step %d is negative", number, step)
	}
	if _, ok := t.Intermediate[step]; !ok {
		t.Intermediate[step] = v
	}
	return nil
}

func (b *book) setAttr(number int, key string, v float64) error {
	t, err := b.running(number)
	if err != nil {
		return err
	}
	t.SystemAttrs[key] = v
	return nil
}

func (b *book) finish(number int, state TrialState, v float64, reason string, now time.Time) error {
	t, err := b.running(number)
	if err != nil {
		return err
	}
	if !state.Finished() {
		return fmt.Errorf("trial %d: %s is not a final state", number, state)
	}
	t.State = state
	t.Value = v
	if state == Failed {
		t.Value = math.NaN()
	}
	t.FailReason = reason
	t.DatetimeComplete = now
	return nil
}

func (b *book) snapshot() []FrozenTrial {
	out := make([]FrozenTrial, len(b.trials))
	for i, t := range b.trials {
		out[i] = t.clone()
	}
	return out
}

// snapshotShared is snapshot for the study's own use: finished trials never change in the book,
// so their maps are shared instead of copied, which keeps Ask O(n) in cheap struct copies.
func (b *book) snapshotShared() []FrozenTrial {
	out := make([]FrozenTrial, len(b.trials))
	for i, t := range b.trials {
		if t.State.Finished() {
			out[i] = *t
		} else {
			out[i] = t.clone()
		}
	}
	return out
}

func (b *book) get(number int) (FrozenTrial, error) {
	if number < 0 || number >= len(b.trials) {
		return FrozenTrial{}, fmt.Errorf("trial %d does not exist (%d trials)", number, len(b.trials))
	}
	return b.trials[number].clone(), nil
}

// MemoryStorage keeps trials in memory; it is the default storage of a study.
type MemoryStorage struct {
	mu sync.Mutex
	b  book
}

// NewMemoryStorage returns an empty in-memory storage.
func NewMemoryStorage() *MemoryStorage { return &MemoryStorage{} }

// SetDirection implements Storage.
func (m *MemoryStorage) SetDirection(d Direction) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.setDirection(d)
}

// EnqueueTrial implements Storage.
func (m *MemoryStorage) EnqueueTrial(fixed map[string]any) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.enqueue(fixed, time.Now()), nil
}

// CreateTrial implements Storage.
func (m *MemoryStorage) CreateTrial() (FrozenTrial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.create(time.Now()).clone(), nil
}

// SetParam implements Storage.
func (m *MemoryStorage) SetParam(number int, name string, d Distribution, v float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.setParam(number, name, d, v)
}

// Report implements Storage.
func (m *MemoryStorage) Report(number, step int, v float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.report(number, step, v)
}

// SetSystemAttr implements Storage.
func (m *MemoryStorage) SetSystemAttr(number int, key string, v float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.setAttr(number, key, v)
}

// FinishTrial implements Storage.
func (m *MemoryStorage) FinishTrial(number int, state TrialState, v float64, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.finish(number, state, v, reason, time.Now())
}

// Trials implements Storage.
func (m *MemoryStorage) Trials() ([]FrozenTrial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.snapshot(), nil
}

// sharedTrials implements sharedStorage.
func (m *MemoryStorage) sharedTrials() ([]FrozenTrial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.snapshotShared(), nil
}

// Trial implements Storage.
func (m *MemoryStorage) Trial(number int) (FrozenTrial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.get(number)
}

// Close implements Storage.
func (m *MemoryStorage) Close() error { return nil }
