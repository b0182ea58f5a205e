package hpo

import (
	"errors"
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
// SELECT ... FOR UPDATE SKIP LOCKED, RegisterWorker a row per worker with a heartbeat. The
// study name would be a constructor argument, which is why no method takes one.
//
// Implementations must be safe for concurrent use by goroutines.
type Storage interface {
	// SetDirection records the study direction, or returns an error when the storage already
	// holds a study with the other direction.
	SetDirection(d Direction) error
	// RegisterWorker joins the study as a worker and returns its index: the lowest index that
	// no live worker holds. Samplers give each index its own random stream (stream.go), so a
	// storage must not hand one index to two live workers; it may hand out a dead worker's.
	RegisterWorker() (int, error)
	// EnqueueTrial adds a WAITING trial whose parameters are fixed in advance. With
	// skipIfExists it adds nothing when a trial with the same parameters is already WAITING,
	// RUNNING, COMPLETE or PRUNED, and returns that trial's number with added false; the test
	// and the addition are one atomic step, so workers enqueueing the same trial at once add
	// it once.
	EnqueueTrial(fixed map[string]any, skipIfExists bool) (number int, added bool, err error)
	// CreateTrial starts a RUNNING trial: the oldest WAITING one if any, else a new one. With
	// limit > 0 it starts none and returns ErrMaxTrials once limit trials are COMPLETE,
	// PRUNED or RUNNING (FAIL ones do not count); the count and the start are one atomic step,
	// so workers sharing a target stop at it together.
	CreateTrial(limit int) (FrozenTrial, error)
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

// ErrMaxTrials is returned (wrapped) by CreateTrial and Study.Ask when the study's target of
// trials is reached (WithMaxTrials).
var ErrMaxTrials = errors.New("the study's target number of trials is reached")

// SharedStorage is a Storage that can hand the study a snapshot whose finished trials share
// maps with the storage (Study.SharedTrials); the study, its samplers and pruners only read
// them. MemoryStorage and lib/hpo/journal's storage are SharedStorages.
type SharedStorage interface {
	Storage
	// SharedTrials is Trials, except that the maps of finished trials may be the storage's own.
	SharedTrials() ([]FrozenTrial, error)
}

// TrialBook is the trial state machine of MemoryStorage, exported for the storages of other
// packages that keep their trials in memory (lib/hpo/journal replays its file into one), so
// that they apply every change by the same rules: trial numbers, WAITING trials picked up
// oldest first, the target of WithMaxTrials, writes refused to a trial that is not running
// (ErrTrialNotRunning), a second report at a step ignored. It is not safe for concurrent use:
// its owner locks. The zero value is an empty book without a direction.
type TrialBook struct {
	// Direction is the study's, once SetDirection set it (empty before).
	Direction Direction
	// Trials are the trials by number (Trials[i].Number == i); its owner may read them and
	// replace a trial's record as a whole, and must change them only through the methods.
	Trials  []*FrozenTrial
	waiting []int // numbers of WAITING trials, oldest first
}

// SetDirection records the study's direction, or refuses another one than the recorded.
func (b *TrialBook) SetDirection(d Direction) error {
	if d != Minimize && d != Maximize {
		return fmt.Errorf("direction %q is neither %s nor %s", d, Minimize, Maximize)
	}
	if b.Direction != "" && b.Direction != d {
		return fmt.Errorf("storage holds a study to %s, asked to %s", b.Direction, d)
	}
	b.Direction = d
	return nil
}

// Enqueue adds a WAITING trial with the parameters fixed and returns its number, without a start time (as Optuna: datetime_start is set when a
// worker picks the trial up, in CreateNumber), so that the memory storage, a live journal and
// a replayed one agree.
func (b *TrialBook) Enqueue(fixed map[string]any) int {
	n := len(b.Trials)
	b.Trials = append(b.Trials, NewFrozenTrial(n, Waiting, fixed, time.Time{}))
	b.waiting = append(b.waiting, n)
	return n
}

// Create starts the next trial (NextNumber) at now and returns it.
func (b *TrialBook) Create(now time.Time) *FrozenTrial {
	t, _ := b.CreateNumber(b.NextNumber(), now)
	return t
}

// NextNumber is the trial that Create would start: the oldest WAITING one, else a new one.
func (b *TrialBook) NextNumber() int {
	if len(b.waiting) > 0 {
		return b.waiting[0]
	}
	return len(b.Trials)
}

// CreateNumber starts trial n at now: a WAITING one or, for n = the number of trials, a new one.
func (b *TrialBook) CreateNumber(n int, now time.Time) (*FrozenTrial, error) {
	if n == len(b.Trials) {
		t := NewFrozenTrial(n, Running, nil, now)
		b.Trials = append(b.Trials, t)
		return t, nil
	}
	if n < 0 || n > len(b.Trials) {
		return nil, fmt.Errorf("trial %d cannot be created next (%d trials)", n, len(b.Trials))
	}
	for i, w := range b.waiting {
		if w == n {
			b.waiting = append(b.waiting[:i:i], b.waiting[i+1:]...)
			t := b.Trials[n]
			t.State = Running
			t.DatetimeStart = now
			return t, nil
		}
	}
	return nil, fmt.Errorf("trial %d already exists and is %s, not %s", n, b.Trials[n].State, Waiting)
}

// BudgetUsed counts the trials that count towards a target: COMPLETE, PRUNED and RUNNING.
func (b *TrialBook) BudgetUsed() int {
	n := 0
	for _, t := range b.Trials {
		if t.State == Complete || t.State == Pruned || t.State == Running {
			n++
		}
	}
	return n
}

// SameTrial returns the number of a WAITING, RUNNING, COMPLETE or PRUNED trial enqueued with, or having, the
// parameters fixed, or -1.
func (b *TrialBook) SameTrial(fixed map[string]any) int {
	for _, t := range b.Trials {
		if t.State == Failed {
			continue
		}
		if (t.FixedParams != nil && sameParams(t.FixedParams, fixed)) || (t.State != Waiting && sameParams(t.ExternalParams(), fixed)) {
			return t.Number
		}
	}
	return -1
}

// sameParams compares parameter maps as the objective sees them; numbers compare by value, so
// that an int enqueued here equals the float64 a journal replay gives back.
func sameParams(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok {
			return false
		}
		fa, oka := number(va)
		fb, okb := number(vb)
		if oka != okb || (oka && fa != fb) || (!oka && fmt.Sprint(va) != fmt.Sprint(vb)) {
			return false
		}
	}
	return true
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	}
	return 0, false
}

// Running returns trial number if it is RUNNING, else an error wrapping ErrTrialNotRunning
// (or saying that there is no such trial).
func (b *TrialBook) Running(number int) (*FrozenTrial, error) {
	if number < 0 || number >= len(b.Trials) {
		return nil, fmt.Errorf("trial %d does not exist (%d trials)", number, len(b.Trials))
	}
	t := b.Trials[number]
	if t.State != Running {
		return nil, fmt.Errorf("trial %d is %s, not %s: %w", number, t.State, Running, ErrTrialNotRunning)
	}
	return t, nil
}

// SetParam records a parameter of a running trial (internal value v of distribution d).
func (b *TrialBook) SetParam(number int, name string, d Distribution, v float64) error {
	t, err := b.Running(number)
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

// Report records the value of a running trial at a step; a second report at a step is ignored,
// as Optuna does.
func (b *TrialBook) Report(number, step int, v float64) error {
	t, err := b.Running(number)
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

// SetAttr records a system attribute of a running trial.
func (b *TrialBook) SetAttr(number int, key string, v float64) error {
	t, err := b.Running(number)
	if err != nil {
		return err
	}
	t.SystemAttrs[key] = v
	return nil
}

// Finish ends a running trial in state (COMPLETE, PRUNED or FAIL) with value v and, for a
// failed one, reason, at now.
func (b *TrialBook) Finish(number int, state TrialState, v float64, reason string, now time.Time) error {
	t, err := b.Running(number)
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

// Snapshot returns copies of every trial (FrozenTrial.Clone), in number order.
func (b *TrialBook) Snapshot() []FrozenTrial {
	out := make([]FrozenTrial, len(b.Trials))
	for i, t := range b.Trials {
		out[i] = t.Clone()
	}
	return out
}

// SnapshotShared is Snapshot for the study's own use: finished trials never change in the book,
// so their maps are shared instead of copied, which keeps Ask O(n) in cheap struct copies.
func (b *TrialBook) SnapshotShared() []FrozenTrial {
	out := make([]FrozenTrial, len(b.Trials))
	for i, t := range b.Trials {
		if t.State.Finished() {
			out[i] = *t
		} else {
			out[i] = t.Clone()
		}
	}
	return out
}

// Get returns a copy of trial number.
func (b *TrialBook) Get(number int) (FrozenTrial, error) {
	if number < 0 || number >= len(b.Trials) {
		return FrozenTrial{}, fmt.Errorf("trial %d does not exist (%d trials)", number, len(b.Trials))
	}
	return b.Trials[number].Clone(), nil
}

// MemoryStorage keeps trials in memory; it is the default storage of a study. Studies that
// share one get worker indices 0, 1, 2, ... in the order they start.
type MemoryStorage struct {
	mu      sync.Mutex
	b       TrialBook
	workers int
}

// NewMemoryStorage returns an empty in-memory storage.
func NewMemoryStorage() *MemoryStorage { return &MemoryStorage{} }

// SetDirection implements Storage.
func (m *MemoryStorage) SetDirection(d Direction) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.SetDirection(d)
}

// RegisterWorker implements Storage.
func (m *MemoryStorage) RegisterWorker() (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.workers++
	return m.workers - 1, nil
}

// EnqueueTrial implements Storage.
func (m *MemoryStorage) EnqueueTrial(fixed map[string]any, skipIfExists bool) (int, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if skipIfExists {
		if n := m.b.SameTrial(fixed); n >= 0 {
			return n, false, nil
		}
	}
	return m.b.Enqueue(fixed), true, nil
}

// CreateTrial implements Storage.
func (m *MemoryStorage) CreateTrial(limit int) (FrozenTrial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if limit > 0 && m.b.BudgetUsed() >= limit {
		return FrozenTrial{}, fmt.Errorf("%d trials complete, pruned or running: %w", m.b.BudgetUsed(), ErrMaxTrials)
	}
	return m.b.Create(time.Now()).Clone(), nil
}

// SetParam implements Storage.
func (m *MemoryStorage) SetParam(number int, name string, d Distribution, v float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.SetParam(number, name, d, v)
}

// Report implements Storage.
func (m *MemoryStorage) Report(number, step int, v float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.Report(number, step, v)
}

// SetSystemAttr implements Storage.
func (m *MemoryStorage) SetSystemAttr(number int, key string, v float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.SetAttr(number, key, v)
}

// FinishTrial implements Storage.
func (m *MemoryStorage) FinishTrial(number int, state TrialState, v float64, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.Finish(number, state, v, reason, time.Now())
}

// Trials implements Storage.
func (m *MemoryStorage) Trials() ([]FrozenTrial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.Snapshot(), nil
}

// SharedTrials implements SharedStorage.
func (m *MemoryStorage) SharedTrials() ([]FrozenTrial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.SnapshotShared(), nil
}

// Trial implements Storage.
func (m *MemoryStorage) Trial(number int) (FrozenTrial, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b.Get(number)
}

// Close implements Storage.
func (m *MemoryStorage) Close() error { return nil }
