package hpo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// JournalStorage keeps a study in an append-only file of JSON lines, one per event (study,
// worker, enqueue, create, param, report, attr, finish). Reopening the file replays it, so a
// study resumes where it stopped. Several processes may share the file: every append holds an
// exclusive flock and first replays what the others appended, so trial numbers come from the
// order of "create" lines and never collide. The file is fsynced when a trial finishes.
//
// The journal is checked as it is replayed: a complete line that is not valid JSON, or an event
// that does not fit the trials before it (a parameter of a trial that was never created, a
// second finish, a create of a trial that is not next), stops the replay with a *JournalError
// naming the line, its byte offset and the trials it concerns, and nothing is written to the
// file from then on: OpenJournal fails and a storage already open fails every call. The
// damage is shown by CheckJournal and removed by RepairJournal.
//
// After kill -9 at any moment:
//   - every finished trial is kept (its "finish" line was written, and fsynced, before Tell
//     returned);
//   - trials that were running come back as FAIL with reason "worker ... died" when a worker of
//     the same host opens the study or starts a trial and their process is gone; trials whose
//     worker ran on another host stay RUNNING (samplers and pruners ignore them, but they count
//     towards a target set by WithMaxTrials until they are finished);
//   - a torn last line (a write cut short: no newline at the end of the file) is skipped with a
//     warning and cut off, under the exclusive lock, before the next line is appended.
//
// A live JournalStorage holds an open file: a journal replaced under it (RepairJournal renames
// a new file over the old one) makes its next call fail instead of writing to the old file.
type JournalStorage struct {
	mu     sync.Mutex
	path   string
	f      *os.File
	st     journalState
	offset int64 // bytes replayed so far: always the start of a line
	line   int   // lines replayed so far
	// tornAt is the offset of a torn last line already warned about, or -1.
	tornAt int64
	torn   bool // the bytes after offset are a torn last line
	host   string
	self   string // "host:pid", written on the lines it appends
	id     string // tells apart the storages one process has open on the same file
	warn   io.Writer
}

// journalState is what a replay builds: the trials, and who created each and holds each worker
// index.
type journalState struct {
	b       book
	creator map[int]workerRef // trial number -> the worker that created it
	slots   map[int]workerRef // worker index -> its latest registrant
}

func newJournalState() journalState {
	return journalState{creator: map[int]workerRef{}, slots: map[int]workerRef{}}
}

// workerRef names a process (and a storage in it) from a line's "worker" and "id".
type workerRef struct {
	raw  string
	host string
	pid  int // 0: unknown
	id   string
}

func parseWorkerRef(raw, id string) workerRef {
	w := workerRef{raw: raw, id: id}
	h, pidText, ok := strings.Cut(raw, ":")
	if pid, err := strconv.Atoi(pidText); ok && err == nil && pid > 0 {
		w.host, w.pid = h, pid
	}
	return w
}

// openJournals holds the ids of the JournalStorages open in this process, so that a worker
// index or a running trial of a closed one counts as dead although its process lives.
var openJournals sync.Map

// jfloat is a float64 that survives JSON: NaN and infinities are written as strings.
type jfloat float64

func (f jfloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

func (f *jfloat) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		s, err := strconv.Unquote(string(b))
		if err != nil {
			return err
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		*f = jfloat(v)
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	*f = jfloat(v)
	return err
}

// journalRecord is one line of the journal. Lines written by earlier versions lack "n" on
// create and enqueue lines and on every line of trial 0; a missing "n" reads as "the next
// trial" on create and enqueue lines and as trial 0 on the others.
type journalRecord struct {
	Op     string         `json:"op"`
	Number *int           `json:"n,omitempty"`
	Index  *int           `json:"k,omitempty"` // worker index of a "worker" line
	Dir    Direction      `json:"dir,omitempty"`
	Name   string         `json:"name,omitempty"`
	Dist   *Distribution  `json:"dist,omitempty"`
	Value  jfloat         `json:"v,omitempty"`
	Step   int            `json:"step,omitempty"`
	Key    string         `json:"key,omitempty"`
	State  TrialState     `json:"state,omitempty"`
	Reason string         `json:"reason,omitempty"`
	Fixed  map[string]any `json:"fixed,omitempty"`
	Worker string         `json:"worker,omitempty"`
	ID     string         `json:"id,omitempty"`
	Time   time.Time      `json:"t"`
}

func intp(n int) *int { return &n }

// trial is the trial number of a line about one trial.
func (r *journalRecord) trial() int {
	if r.Number == nil {
		return 0
	}
	return *r.Number
}

// OpenJournal opens (creating if needed) a journal file and replays it. Trials left RUNNING by
// a dead process of this host are marked failed. A damaged journal is not opened: the error is
// a *JournalError, and the file is left as it was.
func OpenJournal(path string) (*JournalStorage, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	host, _ := os.Hostname()
	j := &JournalStorage{path: path, f: f, st: newJournalState(), tornAt: -1, host: host,
		self: fmt.Sprintf("%s:%d", host, os.Getpid()), id: strconv.FormatUint(rand.Uint64(), 36), warn: defaultLog}
	openJournals.Store(j.id, true)
	if err := j.failDeadWorkers(); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

// Path returns the journal's file name.
func (j *JournalStorage) Path() string { return j.path }

// failDeadWorkers marks RUNNING trials of dead local processes failed, under the write lock so
// that two processes reopening at once do not both do it.
func (j *JournalStorage) failDeadWorkers() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.locked(syscall.LOCK_EX, func() error {
		if err := j.replayForWrite(); err != nil {
			return err
		}
		return j.reapLocked()
	})
}

// reapLocked fails the RUNNING trials whose worker is known dead (the caller holds the
// exclusive lock and has replayed).
func (j *JournalStorage) reapLocked() error {
	reaped := false
	for _, t := range j.st.b.trials {
		if t.State != Running {
			continue
		}
		w, ok := j.st.creator[t.Number]
		if !ok || j.alive(w) {
			continue
		}
		rec := journalRecord{Op: "finish", Number: intp(t.Number), State: Failed, Value: jfloat(math.NaN()),
			Reason: reasonWorkerDied(w.raw), Time: time.Now()}
		if err := j.append(rec, false); err != nil {
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

// The FailReason of a trial whose worker died is "worker <host:pid> died while ...".
const (
	reasonWorkerDiedPrefix = "worker "
	reasonWorkerDiedSuffix = " died while the trial was running"
)

func reasonWorkerDied(worker string) string {
	return reasonWorkerDiedPrefix + worker + reasonWorkerDiedSuffix
}

// alive reports whether a worker may still run: a process of another host, or one that cannot
// be named, counts as alive since nothing here can tell.
func (j *JournalStorage) alive(w workerRef) bool { return workerAlive(w, j.host) }

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

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// locked runs fn holding a flock of the given kind on the journal, after checking that the file
// open here is still the one at the path.
func (j *JournalStorage) locked(how int, fn func() error) error {
	if j.f == nil {
		return fmt.Errorf("journal %s: closed", j.path)
	}
	if err := flock(j.f, how); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	defer syscall.Flock(int(j.f.Fd()), syscall.LOCK_UN)
	if err := sameFile(j.f, j.path); err != nil {
		return err
	}
	return fn()
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("flock: %w", err)
		}
	}
}

// sameFile fails when the path no longer names the open file (replaced by a repair, or
// removed), so that nothing is written to a file nobody will read.
func sameFile(f *os.File, path string) error {
	open, err := f.Stat()
	if err != nil {
		return fmt.Errorf("journal %s: %w", path, err)
	}
	now, err := os.Stat(path)
	if err != nil || !os.SameFile(open, now) {
		return fmt.Errorf("journal %s was replaced or removed while the study had it open (by a repair?): reopen the study", path)
	}
	return nil
}

// replay applies the lines appended since the last replay (by anyone). A damaged line stops it
// there with a *JournalError; the lines before it stay applied, and the next replay meets the
// same line again, so a damaged journal fails every call.
func (j *JournalStorage) replay() error {
	st, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if st.Size() < j.offset {
		return fmt.Errorf("journal %s shrank from %d to %d bytes while open: it was edited; %s", j.path, j.offset, st.Size(), JournalRecoveryHint(j.path))
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
			// Writers hold the exclusive lock for a whole line, and a reader holds a lock
			// too, so a line without its newline can only be a write cut short.
			if j.tornAt != j.offset {
				fmt.Fprintf(j.warn, "hpo: journal %s: ignoring its torn last line (line %d, byte %d, %d bytes: a write cut short); it is cut off before the next write\n", j.path, j.line+1, j.offset, len(buf))
				j.tornAt = j.offset
			}
			j.torn = true
			return nil
		}
		text := buf[:i]
		if len(bytes.TrimSpace(text)) > 0 {
			if err := j.st.applyLine(text); err != nil {
				return newJournalError(j.path, j.line+1, j.offset, text, err, &j.st)
			}
		}
		j.offset += int64(i + 1)
		j.line++
		buf = buf[i+1:]
	}
	return nil
}

// replayForWrite replays and cuts off a torn last line, so that the next line does not get
// glued onto it (the caller holds the exclusive lock).
func (j *JournalStorage) replayForWrite() error {
	if err := j.replay(); err != nil {
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

// applyLine decodes and applies one line.
func (s *journalState) applyLine(text []byte) error {
	var r journalRecord
	if err := json.Unmarshal(text, &r); err != nil {
		return fmt.Errorf("not valid JSON (%v)", err)
	}
	return s.apply(&r)
}

// apply applies one record, or says why it does not fit the journal before it and changes
// nothing.
func (s *journalState) apply(r *journalRecord) error {
	if err := s.check(r); err != nil {
		return err
	}
	b := &s.b
	var err error
	switch r.Op {
	case "study":
		err = b.setDirection(r.Dir)
	case "worker":
		s.slots[*r.Index] = parseWorkerRef(r.Worker, r.ID)
	case "enqueue":
		b.enqueue(r.Fixed, r.Time)
	case "create":
		n := b.nextNumber()
		if r.Number != nil {
			n = *r.Number
		}
		_, err = b.createNumber(n, r.Time)
		s.creator[n] = parseWorkerRef(r.Worker, r.ID)
	case "param":
		err = b.setParam(r.trial(), r.Name, *r.Dist, float64(r.Value))
	case "report":
		err = b.report(r.trial(), r.Step, float64(r.Value))
	case "attr":
		err = b.setAttr(r.trial(), r.Key, float64(r.Value))
	case "finish":
		err = b.finish(r.trial(), r.State, float64(r.Value), r.Reason, r.Time)
	}
	return err
}

// check says why a record does not fit the journal before it, if it does not.
func (s *journalState) check(r *journalRecord) error {
	b := &s.b
	switch r.Op {
	case "study":
		probe := book{direction: b.direction}
		return probe.setDirection(r.Dir)
	case "worker":
		if r.Index == nil || *r.Index < 0 {
			return errors.New(`worker line without a worker index "k"`)
		}
	case "enqueue":
		if r.Number != nil && *r.Number != len(b.trials) {
			return fmt.Errorf("enqueue of trial %d, but the next trial is %d (a line before it is missing or damaged)", *r.Number, len(b.trials))
		}
	case "create":
		if r.Number == nil {
			return nil
		}
		n := *r.Number
		if n == len(b.trials) {
			return nil
		}
		if n < 0 || n > len(b.trials) {
			return fmt.Errorf("create of trial %d, but there are %d trials (a line before it is missing or damaged)", n, len(b.trials))
		}
		if b.trials[n].State != Waiting {
			return fmt.Errorf("create of trial %d, which already exists and is %s", n, b.trials[n].State)
		}
	case "param", "report", "attr", "finish":
		t, err := b.running(r.trial())
		if err != nil {
			return fmt.Errorf("%s: %w", r.Op, err)
		}
		switch r.Op {
		case "param":
			if r.Dist == nil {
				return fmt.Errorf("param %q of trial %d has no distribution", r.Name, t.Number)
			}
			if err := r.Dist.Validate(); err != nil {
				return fmt.Errorf("param %q of trial %d: %w", r.Name, t.Number, err)
			}
			v := float64(r.Value)
			if math.IsNaN(v) || (r.Dist.Kind == CategoricalKind && !r.Dist.Contains(v)) {
				return fmt.Errorf("param %q of trial %d: value %v does not fit %s", r.Name, t.Number, v, r.Dist)
			}
			if old, ok := t.Distributions[r.Name]; ok && !old.Equal(*r.Dist) {
				return fmt.Errorf("trial %d parameter %q: distribution %s differs from earlier %s", t.Number, r.Name, r.Dist, old)
			}
		case "report":
			if r.Step < 0 {
				return fmt.Errorf("trial %d: step %d is negative", t.Number, r.Step)
			}
		case "finish":
			if !r.State.Finished() {
				return fmt.Errorf("finish of trial %d: %q is not a final state", t.Number, r.State)
			}
		}
	default:
		return fmt.Errorf("unknown op %q", r.Op)
	}
	return nil
}

// append writes one record (the caller holds the exclusive lock and has replayed) and applies
// it to the in-memory state, so the local view matches what a replay of the file would give.
func (j *JournalStorage) append(r journalRecord, sync bool) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("journal %s: encode %s: %w", j.path, r.Op, err)
	}
	// Refuse what a replay would refuse, before it is in the file for good.
	var back journalRecord
	if err := json.Unmarshal(line, &back); err != nil {
		return fmt.Errorf("journal %s: %s line does not decode: %w", j.path, r.Op, err)
	}
	if err := j.st.check(&back); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	line = append(line, '\n')
	if n, err := j.f.Write(line); err != nil {
		if n > 0 {
			// A short write leaves a torn line; cut it now rather than at the next append.
			j.f.Truncate(j.offset)
		}
		return fmt.Errorf("journal %s: write: %w", j.path, err)
	}
	if sync {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("journal %s: fsync: %w", j.path, err)
		}
	}
	if err := j.st.applyLine(line[:len(line)-1]); err != nil {
		return newJournalError(j.path, j.line+1, j.offset, line[:len(line)-1], err, &j.st)
	}
	j.offset += int64(len(line))
	j.line++
	return nil
}

// write replays, lets check validate against the fresh state, then appends.
func (j *JournalStorage) write(r journalRecord, sync bool, check func() error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.locked(syscall.LOCK_EX, func() error {
		if err := j.replayForWrite(); err != nil {
			return err
		}
		if check != nil {
			if err := check(); err != nil {
				return err
			}
		}
		r.Time = time.Now()
		return j.append(r, sync)
	})
}

// read replays under a shared lock and runs fn on the fresh state.
func (j *JournalStorage) read(fn func()) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.locked(syscall.LOCK_SH, func() error {
		if err := j.replay(); err != nil {
			return err
		}
		fn()
		return nil
	})
}

// SetDirection implements Storage.
func (j *JournalStorage) SetDirection(d Direction) error {
	var have Direction
	if err := j.read(func() { have = j.st.b.direction }); err != nil {
		return err
	}
	if have == d {
		return nil
	}
	return j.write(journalRecord{Op: "study", Dir: d}, true, func() error {
		probe := j.st.b
		return probe.setDirection(d)
	})
}

// RegisterWorker implements Storage: the index is the lowest whose latest registrant is dead
// (a process of this host that is gone, or a storage of this process that was closed).
func (j *JournalStorage) RegisterWorker() (int, error) {
	k := 0
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.locked(syscall.LOCK_EX, func() error {
		if err := j.replayForWrite(); err != nil {
			return err
		}
		for {
			w, held := j.st.slots[k]
			if !held || !j.alive(w) {
				break
			}
			k++
		}
		return j.append(journalRecord{Op: "worker", Index: intp(k), Worker: j.self, ID: j.id, Time: time.Now()}, false)
	})
	return k, err
}

// EnqueueTrial implements Storage.
func (j *JournalStorage) EnqueueTrial(fixed map[string]any, skipIfExists bool) (int, bool, error) {
	n, added := -1, false
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.locked(syscall.LOCK_EX, func() error {
		if err := j.replayForWrite(); err != nil {
			return err
		}
		if skipIfExists {
			if n = j.st.b.sameTrial(fixed); n >= 0 {
				return nil
			}
		}
		n, added = len(j.st.b.trials), true
		return j.append(journalRecord{Op: "enqueue", Number: intp(n), Fixed: fixed, Time: time.Now()}, true)
	})
	return n, added, err
}

// CreateTrial implements Storage. It first fails the running trials of dead local workers, so
// that a worker killed mid-trial does not hold a place under the target.
func (j *JournalStorage) CreateTrial(limit int) (FrozenTrial, error) {
	var out FrozenTrial
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.locked(syscall.LOCK_EX, func() error {
		if err := j.replayForWrite(); err != nil {
			return err
		}
		if err := j.reapLocked(); err != nil {
			return err
		}
		if used := j.st.b.budgetUsed(); limit > 0 && used >= limit {
			return fmt.Errorf("%d trials complete, pruned or running: %w", used, ErrMaxTrials)
		}
		n := j.st.b.nextNumber()
		if err := j.append(journalRecord{Op: "create", Number: intp(n), Worker: j.self, ID: j.id, Time: time.Now()}, false); err != nil {
			return err
		}
		out = j.st.b.trials[n].clone()
		return nil
	})
	return out, err
}

func (j *JournalStorage) checkRunning(number int) func() error {
	return func() error {
		_, err := j.st.b.running(number)
		return err
	}
}

// SetParam implements Storage.
func (j *JournalStorage) SetParam(number int, name string, d Distribution, v float64) error {
	return j.write(journalRecord{Op: "param", Number: intp(number), Name: name, Dist: &d, Value: jfloat(v)}, false, j.checkRunning(number))
}

// Report implements Storage.
func (j *JournalStorage) Report(number, step int, v float64) error {
	return j.write(journalRecord{Op: "report", Number: intp(number), Step: step, Value: jfloat(v)}, false, j.checkRunning(number))
}

// SetSystemAttr implements Storage.
func (j *JournalStorage) SetSystemAttr(number int, key string, v float64) error {
	return j.write(journalRecord{Op: "attr", Number: intp(number), Key: key, Value: jfloat(v)}, false, j.checkRunning(number))
}

// FinishTrial implements Storage; the journal is fsynced so that a finished trial survives.
func (j *JournalStorage) FinishTrial(number int, state TrialState, v float64, reason string) error {
	return j.write(journalRecord{Op: "finish", Number: intp(number), State: state, Value: jfloat(v), Reason: reason}, true, func() error {
		if _, err := j.st.b.running(number); err != nil {
			return err
		}
		if !state.Finished() {
			return fmt.Errorf("trial %d: %s is not a final state", number, state)
		}
		return nil
	})
}

// Trials implements Storage.
func (j *JournalStorage) Trials() ([]FrozenTrial, error) {
	var out []FrozenTrial
	err := j.read(func() { out = j.st.b.snapshot() })
	return out, err
}

// sharedTrials implements sharedStorage.
func (j *JournalStorage) sharedTrials() ([]FrozenTrial, error) {
	var out []FrozenTrial
	err := j.read(func() { out = j.st.b.snapshotShared() })
	return out, err
}

// Trial implements Storage.
func (j *JournalStorage) Trial(number int) (FrozenTrial, error) {
	var out FrozenTrial
	var err error
	if rerr := j.read(func() { out, err = j.st.b.get(number) }); rerr != nil {
		return out, rerr
	}
	return out, err
}

// Close implements Storage. The storage's worker index and running trials count as dead from
// then on.
func (j *JournalStorage) Close() error {
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
