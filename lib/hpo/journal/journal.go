package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
)

// Storage keeps a study in a journal file of Optuna's JournalStorage format
// (optuna.go): one JSON line per operation (CREATE_STUDY, CREATE_TRIAL,
// SET_TRIAL_PARAM, ...), so that optuna.load_study with
// JournalStorage(JournalFileBackend(path)) and optuna-dashboard read what hw1 writes, and a
// study begun by Optuna is continued here. Reopening the file replays it, so a study resumes
// where it stopped. A journal may hold several studies; a Storage works on one, named
// by WithStudy.
//
// Several processes may share the file, hw1's and Optuna's: every append holds Optuna's lock
// (lock.go) and, for hw1's, an exclusive flock of the journal too, and first replays
// what the others appended, so trial numbers come from the order of the lines and never
// collide; readers share the flock. The file is fsynced when a trial finishes.
//
// The journal is checked as it is replayed: a complete line that is not valid JSON, or an
// operation that does not fit the trials before it (a parameter of a trial that was never
// created, a second finish, a create line hw1 wrote whose trial_id is not the next), stops the
// replay with a *Error naming the line, its byte offset and the trials it concerns,
// and nothing is written to the file from then on: Open fails and a storage already
// open fails every call. The damage is shown by Check and removed by Repair.
// What Optuna's own replay ignores is ignored here too: a second start of an enqueued trial
// (the first one wins), a parameter whose distribution Optuna refuses (its writer got the
// error), a trial of a deleted study.
//
// After kill -9 at any moment:
//   - every finished trial is kept (its SET_TRIAL_STATE_VALUES line was written, and fsynced,
//     before Tell returned);
//   - trials that were running come back as FAIL with reason "worker ... died" when a worker of
//     the same host opens the study or starts a trial and their process is gone; trials whose
//     worker ran on another host, or was a Python process, stay RUNNING (samplers and pruners
//     ignore them, but they count towards a target set by WithMaxTrials until finished);
//   - a torn last line (a write cut short: no newline at the end of the file) is skipped with a
//     warning and cut off, under the locks, before the next line is appended;
//   - Optuna's lock file left behind is removed by the next hw1 writer at once if an hw1
//     process left it, after Optuna's grace period of 30 s otherwise.
//
// A journal of hw1's first format is converted to Optuna's once, when opened
// (legacy.go).
//
// A live Storage holds an open file: a journal replaced under it (Repair renames
// a new file over the old one) makes its next call fail instead of writing to the old file.
type Storage struct {
	mu   sync.Mutex
	path string
	name string // the study
	// fallback names the study of a journal that holds none (WithDefaultStudy).
	fallback string
	f        *os.File
	lock     *optunaLock
	st       journalState
	offset   int64 // bytes replayed so far: always the start of a line
	line     int   // lines replayed so far
	// tornAt is the offset of a torn last line already warned about, or -1.
	tornAt int64
	torn   bool // the bytes after offset are a torn last line
	host   string
	self   string // "host:pid"
	id     string // "hw1-<random>": tells apart the storages one process has open on a file
	worker string // the worker_id of the lines it writes: "host:pid:hw1-<random>"
	warn   io.Writer
}

// DefaultWithStudy is the study Open opens in a journal that holds none when no
// WithStudy option names one: NewStudy's default name.
const DefaultJournalStudy = "study"

// Option configures Open.
type Option func(*journalConfig)

type journalConfig struct{ study, fallback string }

// WithStudy names the study of the journal to open, created by the first NewStudy on the
// storage if the journal does not hold it yet. Without it, Open opens the journal's one
// study, or DefaultWithStudy in a journal that holds none, and fails on a journal that
// holds several.
func WithStudy(name string) Option { return func(c *journalConfig) { c.study = name } }

// WithDefaultStudy names the study of a journal that holds none yet (instead of
// DefaultWithStudy), and of a journal of hw1's first format when it is converted; a journal
// that holds one study opens it, whatever its name. For a journal that belongs to one study
// (a results folder's), whose name it should carry for Optuna and optuna-dashboard.
func WithDefaultStudy(name string) Option {
	return func(c *journalConfig) { c.fallback = name }
}

// errJournalReplaced is wrapped by the error of a call on a journal replaced under it.
var errJournalReplaced = errors.New("journal replaced")

// openJournals holds the ids of the JournalStorages open in this process, so that a worker
// index or a running trial of a closed one counts as dead although its process lives.
var openJournals sync.Map

// Open opens (creating if needed) a journal file and replays it. Trials left RUNNING by
// a dead process of this host are marked failed. A damaged journal is not opened: the error is
// a *Error, and the file is left as it was. A journal of hw1's first format is
// converted to Optuna's first, with a message and a backup of the original.
func Open(path string, opts ...Option) (*Storage, error) {
	var c journalConfig
	for _, o := range opts {
		o(&c)
	}
	host, _ := os.Hostname()
	for attempt := 0; ; attempt++ {
		j, err := openJournalOnce(path, c, host)
		// A conversion or repair by another process replaced the file while this one waited
		// for it: open the new one.
		if errors.Is(err, errJournalReplaced) && attempt < 10 {
			continue
		}
		return j, err
	}
}

func openJournalOnce(path string, c journalConfig, host string) (*Storage, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	lock, err := newOptunaLock(path, defaultLog)
	if err != nil {
		f.Close()
		return nil, err
	}
	id := "hw1-" + strconv.FormatUint(rand.Uint64(), 36)
	self := fmt.Sprintf("%s:%d", host, os.Getpid())
	j := &Storage{path: path, name: c.study, fallback: c.fallback, f: f, lock: lock, st: newJournalState(), tornAt: -1, host: host,
		self: self, id: id, worker: self + ":" + id, warn: defaultLog}
	openJournals.Store(j.id, true)
	if err := j.start(); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

// Path returns the journal's file name.
func (j *Storage) Path() string { return j.path }

// StudyName returns the name of the study the storage works on.
func (j *Storage) StudyName() string { return j.name }

// start converts a first-format journal, replays, names the study and marks RUNNING trials
// of dead local processes failed, under the write locks so that two processes opening at once
// do not both do it.
func (j *Storage) start() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	release, err := lockJournal(j.f, j.path, lockExclusive, j.lock)
	if err != nil {
		return err
	}
	var replaced *os.File
	defer func() { release(replaced) }()
	format, err := detectFormat(j.f)
	if err != nil {
		return err
	}
	if format == formatLegacy {
		if replaced, err = j.convertLegacy(); err != nil {
			return err
		}
		return fmt.Errorf("journal %s: converted: %w", j.path, errJournalReplaced)
	}
	if err := j.replayForWrite(); err != nil {
		return err
	}
	if j.name == "" {
		switch names := j.st.liveNames(); len(names) {
		case 0:
			j.name = j.newStudyName()
		case 1:
			j.name = names[0]
		default:
			return fmt.Errorf("journal %s holds %d studies (%s): name the one to open (journal.WithStudy)", j.path, len(names), strings.Join(names, ", "))
		}
	}
	if st := j.study(); st != nil && len(st.dirs) != 1 {
		return fmt.Errorf("journal %s: study %q has %d objectives; hpo studies have one", j.path, j.name, len(st.dirs))
	}
	return j.reapLocked()
}

// newStudyName is the name of the study created in a journal that holds none.
func (j *Storage) newStudyName() string {
	if j.fallback != "" {
		return j.fallback
	}
	return DefaultJournalStudy
}

// study returns the storage's study, or nil while the journal does not hold it.
func (j *Storage) study() *journalStudy { return j.st.byName(j.name) }

// mustStudy returns the storage's study, or says that it is missing.
func (j *Storage) mustStudy() (*journalStudy, error) {
	if st := j.study(); st != nil {
		return st, nil
	}
	return nil, fmt.Errorf("journal %s holds no study %q (NewStudy creates it)", j.path, j.name)
}

// reapLocked fails the RUNNING trials whose worker is known dead (the caller holds the write
// locks and has replayed).
func (j *Storage) reapLocked() error {
	st := j.study()
	if st == nil {
		return nil
	}
	reaped := false
	for _, t := range st.b.Trials {
		if t.State != hpo.Running {
			continue
		}
		w, ok := st.creator[t.Number]
		if !ok || j.alive(w) {
			continue
		}
		now := time.Now()
		if err := j.appendEvents(false,
			journalEvent{op: evReason, study: st.id, number: intp(t.Number), reason: hpo.ReasonWorkerDied(w.raw)},
			journalEvent{op: evFinish, study: st.id, number: intp(t.Number), state: hpo.Failed, value: math.NaN(), time: now}); err != nil {
			return err
		}
		reaped = true
	}
	if reaped {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("journal %s: fsync: %w", j.path, err)
		}
	}
	return nil
}

// alive reports whether a worker may still run: a process of another host, or one that cannot
// be named (an Optuna process), counts as alive since nothing here can tell.
func (j *Storage) alive(w workerRef) bool { return workerAlive(w, j.host) }

func workerAlive(w workerRef, host string) bool {
	if w.pid == 0 || w.host != host {
		return true
	}
	if w.pid != os.Getpid() {
		return processAlive(w.pid)
	}
	if w.id == "" {
		return true
	}
	_, open := openJournals.Load(w.id)
	return open
}

// lockJournal takes f's flock of the given kind after checking that path still names f, and
// for an exclusive one Optuna's lock too. release undoes both, Optuna's lock first; files
// passed to it (a replacement journal, flocked by replaceJournal) are closed in between, so
// that no hw1 writer meets Optuna's lock while it holds the flock of the file at the path.
func lockJournal(f *os.File, path string, how lockKind, lock *optunaLock) (release func(keep ...*os.File), err error) {
	if f == nil {
		return nil, fmt.Errorf("journal %s: closed", path)
	}
	unlock := func() { funlock(f) }
	var wait lockWait
	for {
		if err := flock(f, how); err != nil {
			return nil, fmt.Errorf("journal %s: %w", path, err)
		}
		if err := sameFile(f, path); err != nil {
			unlock()
			return nil, err
		}
		if how != lockExclusive {
			break
		}
		held, err := lock.try()
		if err != nil {
			unlock()
			return nil, err
		}
		if held {
			break
		}
		unlock()
		wait.wait(lock)
	}
	return func(keep ...*os.File) {
		if how == lockExclusive {
			lock.release()
		}
		for _, k := range keep {
			if k != nil {
				k.Close()
			}
		}
		unlock()
	}, nil
}

// locked runs fn holding the journal's locks of the given kind.
func (j *Storage) locked(how lockKind, fn func() error) error {
	release, err := lockJournal(j.f, j.path, how, j.lock)
	if err != nil {
		return err
	}
	defer release()
	return fn()
}

// lockKind is a shared (readers) or exclusive (writers) lock of a journal file:
// flock on Unix, LockFileEx on Windows (lock_unix.go, lock_windows.go).
type lockKind int

const (
	lockShared lockKind = iota
	lockExclusive
)

// sameFile fails when the path no longer names the open file (replaced by a repair or a
// conversion, or removed), so that nothing is written to a file nobody will read.
func sameFile(f *os.File, path string) error {
	open, err := f.Stat()
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	now, err := os.Stat(path)
	if err != nil || !os.SameFile(open, now) {
		return fmt.Errorf("journal %s was replaced or removed while the study had it open (by a repair?): reopen the study: %w", path, errJournalReplaced)
	}
	return nil
}

// replaceJournal writes data to a temporary file beside path, fsynced, and renames it over
// path. The new file is returned open and flocked, so that hw1 writers that open the path
// after the rename wait for the caller's release (lockJournal).
func replaceJournal(path string, data []byte) (*os.File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*os.File, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	if err := flock(tmp, lockExclusive); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail(err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return tmp, nil
}

// replay applies the lines appended since the last replay (by anyone). A damaged line stops it
// there with a *Error; the lines before it stay applied, and the next replay meets the
// same line again, so a damaged journal fails every call. write says the caller holds the
// write locks: a last line without its newline is then a write cut short (a torn line) and is
// warned about; a reader may be seeing a line being written, and stops before it.
func (j *Storage) replay(write bool) error {
	st, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if st.Size() < j.offset {
		return fmt.Errorf("journal %s shrank from %d to %d bytes while open: it was edited; %s", j.path, j.offset, st.Size(), RecoveryHint(j.path))
	}
	j.torn = false
	if st.Size() == j.offset {
		return nil
	}
	buf := make([]byte, st.Size()-j.offset)
	if _, err := j.f.ReadAt(buf, j.offset); err != nil && err != io.EOF {
		return fmt.Errorf("journal %s: read: %w", j.path, err)
	}
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			if !write {
				return nil
			}
			if j.tornAt != j.offset {
				fmt.Fprintf(j.warn, "hpo: journal %s: ignoring its torn last line (line %d, byte %d, %d bytes: a write cut short); it is cut off before the next write\n", j.path, j.line+1, j.offset, len(buf))
				j.tornAt = j.offset
			}
			j.torn = true
			return nil
		}
		text := buf[:i]
		if len(bytes.TrimSpace(text)) > 0 {
			if err := j.applyLine(text); err != nil {
				return newJournalError(j.path, j.line+1, j.offset, text, err, &j.st, formatOptuna)
			}
		}
		j.offset += int64(i + 1)
		j.line++
		buf = buf[i+1:]
	}
	return nil
}

func (j *Storage) applyLine(text []byte) error {
	ev, err := j.st.decodeOptuna(text)
	if err != nil {
		return err
	}
	return j.st.apply(&ev)
}

// replayForWrite replays and cuts off a torn last line, so that the next line does not get
// glued onto it (the caller holds the write locks).
func (j *Storage) replayForWrite() error {
	if err := j.replay(true); err != nil {
		return err
	}
	if j.torn {
		if err := j.f.Truncate(j.offset); err != nil {
			return fmt.Errorf("journal %s: cut the torn last line: %w", j.path, err)
		}
		j.torn = false
	}
	return nil
}

// appendEvents writes events, one line each (the caller holds the write locks and has
// replayed), and applies them, so the local view matches what a replay of the file gives.
// Each line is first decoded back and checked as a replay would, so that nothing is written
// that a replay, hw1's or Optuna's, would refuse or ignore.
func (j *Storage) appendEvents(sync bool, evs ...journalEvent) error {
	for i := range evs {
		ev := &evs[i]
		if ev.worker == "" {
			ev.worker = j.worker
		}
		line, err := j.st.encodeOptuna(ev)
		if err != nil {
			return fmt.Errorf("journal %s: encode a %s line: %w", j.path, ev.op, err)
		}
		back, err := j.st.decodeOptuna(line)
		if err != nil {
			return fmt.Errorf("journal %s: a %s line does not decode: %w", j.path, ev.op, err)
		}
		if back.op != ev.op {
			return fmt.Errorf("journal %s: Optuna's replay would ignore this %s line: %s", j.path, back.what, shorten(line))
		}
		if err := j.st.check(&back); err != nil {
			return fmt.Errorf("journal %s: %w", j.path, err)
		}
		line = append(line, '\n')
		if n, err := j.f.Write(line); err != nil {
			if n > 0 {
				// A short write leaves a torn line; cut it now rather than at the next append
				// (which would cut it too, so a failed cut is reported, not fatal).
				if terr := j.f.Truncate(j.offset); terr != nil {
					err = errors.Join(err, fmt.Errorf("cut the torn line: %w", terr))
				}
			}
			return fmt.Errorf("journal %s: write: %w", j.path, err)
		}
		if err := j.st.apply(&back); err != nil {
			return newJournalError(j.path, j.line+1, j.offset, line[:len(line)-1], err, &j.st, formatOptuna)
		}
		j.offset += int64(len(line))
		j.line++
	}
	if sync {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("journal %s: fsync: %w", j.path, err)
		}
	}
	return nil
}

// write replays, lets check validate against the fresh state, then appends what events
// returns.
func (j *Storage) write(sync bool, events func(st *journalStudy) ([]journalEvent, error)) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.locked(lockExclusive, func() error {
		if err := j.replayForWrite(); err != nil {
			return err
		}
		st, err := j.mustStudy()
		if err != nil {
			return err
		}
		evs, err := events(st)
		if err != nil || len(evs) == 0 {
			return err
		}
		for i := range evs {
			evs[i].study = st.id
		}
		return j.appendEvents(sync, evs...)
	})
}

// read replays under a shared lock and runs fn on the fresh state (st nil: the journal does
// not hold the study yet).
func (j *Storage) read(fn func(st *journalStudy)) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.locked(lockShared, func() error {
		if err := j.replay(false); err != nil {
			return err
		}
		fn(j.study())
		return nil
	})
}

// SetDirection implements Storage: it creates the study (Optuna's CREATE_STUDY) when the
// journal does not hold it yet.
func (j *Storage) SetDirection(d hpo.Direction) error {
	if _, err := optunaDirection(d); err != nil {
		return err
	}
	compare := func(st *journalStudy) error {
		if len(st.dirs) != 1 {
			return fmt.Errorf("study %q has %d objectives; hpo studies have one", j.name, len(st.dirs))
		}
		if st.dirs[0] != d {
			return fmt.Errorf("storage holds a study to %s, asked to %s", st.dirs[0], d)
		}
		return nil
	}
	var have *journalStudy
	if err := j.read(func(st *journalStudy) { have = st }); err != nil {
		return err
	}
	if have != nil {
		return compare(have)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.locked(lockExclusive, func() error {
		if err := j.replayForWrite(); err != nil {
			return err
		}
		if st := j.study(); st != nil {
			return compare(st) // created meanwhile by another worker
		}
		return j.appendEvents(true, studyEvents(j.name, d, j.worker, len(j.st.studies))...)
	})
}

// RegisterWorker implements Storage: the index is the lowest whose latest registrant is dead
// (a process of this host that is gone, or a storage of this process that was closed).
func (j *Storage) RegisterWorker() (int, error) {
	k := 0
	err := j.write(false, func(st *journalStudy) ([]journalEvent, error) {
		for {
			w, held := st.slots[k]
			if !held || !j.alive(w) {
				break
			}
			k++
		}
		return []journalEvent{{op: evWorker, index: k}}, nil
	})
	return k, err
}

// EnqueueTrial implements Storage.
func (j *Storage) EnqueueTrial(fixed map[string]any, skipIfExists bool) (int, bool, error) {
	n, added := -1, false
	err := j.write(true, func(st *journalStudy) ([]journalEvent, error) {
		if skipIfExists {
			if n = st.b.SameTrial(fixed); n >= 0 {
				return nil, nil
			}
		}
		n, added = len(st.b.Trials), true
		return []journalEvent{{op: evEnqueue, number: intp(n), fixed: fixed}}, nil
	})
	return n, added, err
}

// CreateTrial implements Storage. It first fails the running trials of dead local workers, so
// that a worker killed mid-trial does not hold a place under the target. Starting a WAITING
// trial is Optuna's SET_TRIAL_STATE_VALUES to RUNNING; a new trial is a CREATE_TRIAL line.
func (j *Storage) CreateTrial(limit int) (hpo.FrozenTrial, error) {
	var out hpo.FrozenTrial
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.locked(lockExclusive, func() error {
		if err := j.replayForWrite(); err != nil {
			return err
		}
		if err := j.reapLocked(); err != nil {
			return err
		}
		st, err := j.mustStudy()
		if err != nil {
			return err
		}
		if used := st.b.BudgetUsed(); limit > 0 && used >= limit {
			return fmt.Errorf("%d trials complete, pruned or running: %w", used, hpo.ErrMaxTrials)
		}
		n := st.b.NextNumber()
		if err := j.appendEvents(false, journalEvent{op: evCreate, study: st.id, number: intp(n), time: time.Now()}); err != nil {
			return err
		}
		out = st.b.Trials[n].Clone()
		return nil
	})
	return out, err
}

func running(st *journalStudy, number int) error {
	_, err := st.b.Running(number)
	return err
}

// SetParam implements Storage. A distribution that Optuna would refuse for the study (another
// kind, log scale or set of choices than the parameter's in an earlier trial) is refused here.
func (j *Storage) SetParam(number int, name string, d hpo.Distribution, v float64) error {
	return j.write(false, func(st *journalStudy) ([]journalEvent, error) {
		if err := running(st, number); err != nil {
			return nil, err
		}
		if old, ok := st.b.Trials[number].Distributions[name]; ok && !old.Equal(d) {
			return nil, fmt.Errorf("trial %d parameter %q: distribution %s differs from earlier %s", number, name, d, old)
		} else if !ok {
			if err := st.studyCompatible(name, d); err != nil {
				return nil, fmt.Errorf("trial %d %w", number, err)
			}
		}
		return []journalEvent{{op: evParam, number: intp(number), name: name, dist: &d, value: v}}, nil
	})
}

// Report implements Storage; a second report at the same step writes nothing.
func (j *Storage) Report(number, step int, v float64) error {
	return j.write(false, func(st *journalStudy) ([]journalEvent, error) {
		if err := running(st, number); err != nil {
			return nil, err
		}
		if _, done := st.b.Trials[number].Intermediate[step]; done {
			return nil, nil
		}
		return []journalEvent{{op: evReport, number: intp(number), step: step, value: v}}, nil
	})
}

// SetSystemAttr implements Storage.
func (j *Storage) SetSystemAttr(number int, key string, v float64) error {
	return j.write(false, func(st *journalStudy) ([]journalEvent, error) {
		if err := running(st, number); err != nil {
			return nil, err
		}
		return []journalEvent{{op: evAttr, number: intp(number), key: key, value: v}}, nil
	})
}

// FinishTrial implements Storage; the journal is fsynced so that a finished trial survives.
// A reason is written first, as the trial's system attribute "fail_reason".
func (j *Storage) FinishTrial(number int, state hpo.TrialState, v float64, reason string) error {
	return j.write(true, func(st *journalStudy) ([]journalEvent, error) {
		if err := running(st, number); err != nil {
			return nil, err
		}
		if !state.Finished() {
			return nil, fmt.Errorf("trial %d: %s is not a final state", number, state)
		}
		var evs []journalEvent
		if reason != "" {
			evs = append(evs, journalEvent{op: evReason, number: intp(number), reason: reason})
		}
		return append(evs, journalEvent{op: evFinish, number: intp(number), state: state, value: v, time: time.Now()}), nil
	})
}

// Trials implements Storage.
func (j *Storage) Trials() ([]hpo.FrozenTrial, error) {
	var out []hpo.FrozenTrial
	err := j.read(func(st *journalStudy) {
		if st != nil {
			out = st.b.Snapshot()
		}
	})
	return out, err
}

// SharedTrials implements SharedStorage.
func (j *Storage) SharedTrials() ([]hpo.FrozenTrial, error) {
	var out []hpo.FrozenTrial
	err := j.read(func(st *journalStudy) {
		if st != nil {
			out = st.b.SnapshotShared()
		}
	})
	return out, err
}

// Trial implements Storage.
func (j *Storage) Trial(number int) (hpo.FrozenTrial, error) {
	var out hpo.FrozenTrial
	var err error
	rerr := j.read(func(st *journalStudy) {
		if st == nil {
			err = fmt.Errorf("trial %d does not exist (journal %s holds no study %q)", number, j.path, j.name)
			return
		}
		out, err = st.b.Get(number)
	})
	if rerr != nil {
		return out, rerr
	}
	return out, err
}

// Close implements Storage. The storage's worker index and running trials count as dead from
// then on.
func (j *Storage) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	openJournals.Delete(j.id)
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// defaultLog is where the package's warnings go (torn journal lines, dead workers).
var defaultLog io.Writer = os.Stderr
