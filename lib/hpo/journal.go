package hpo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// JournalStorage keeps a study in an append-only file of JSON lines, one per event (study,
// enqueue, create, param, report, attr, finish). Reopening the file replays it, so a study
// resumes where it stopped. Several processes may share the file: every append holds an
// exclusive flock and first replays what the others appended, so trial numbers come from the
// order of "create" lines and never collide. The file is fsynced when a trial finishes.
//
// After kill -9 at any moment:
//   - every finished trial is kept (its "finish" line was written, and fsynced, before Tell
//     returned);
//   - trials that were running come back as FAIL with reason "worker ... died" when the study
//     is reopened on the same host and their process is gone; trials whose worker ran on
//     another host stay RUNNING (samplers and pruners ignore them);
//   - a torn last line (a crash in the middle of a write) is skipped with a warning, and the
//     next append starts on a fresh line.
type JournalStorage struct {
	mu     sync.Mutex
	path   string
	f      *os.File
	b      book
	offset int64 // bytes replayed so far
	torn   bool  // the replayed bytes end without a newline
	// workers maps a trial number to the "host:pid" that created it.
	workers map[int]string
	self    string
	// lastCreated is the number of the trial made by the latest "create" applied.
	lastCreated int
	warn        io.Writer
}

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

// journalRecord is one line of the journal.
type journalRecord struct {
	Op     string         `json:"op"`
	Number int            `json:"n,omitempty"`
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
	Time   time.Time      `json:"t"`
}

// OpenJournal opens (creating if needed) a journal file and replays it. Trials left RUNNING by
// a dead process of this host are marked failed.
func OpenJournal(path string) (*JournalStorage, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	host, _ := os.Hostname()
	j := &JournalStorage{path: path, f: f, workers: map[int]string{},
		self: fmt.Sprintf("%s:%d", host, os.Getpid()), warn: defaultLog}
	if err := j.failDeadWorkers(host); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

// failDeadWorkers marks RUNNING trials of dead local processes failed, under the write lock so
// that two processes reopening at once do not both do it.
func (j *JournalStorage) failDeadWorkers(host string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.locked(syscall.LOCK_EX, func() error {
		if err := j.replay(); err != nil {
			return err
		}
		for _, t := range j.b.trials {
			if t.State != Running {
				continue
			}
			w := j.workers[t.Number]
			h, pidText, ok := strings.Cut(w, ":")
			pid, err := strconv.Atoi(pidText)
			if !ok || err != nil || h != host || processAlive(pid) {
				continue
			}
			rec := journalRecord{Op: "finish", Number: t.Number, State: Failed, Value: jfloat(math.NaN()),
				Reason: fmt.Sprintf("worker %s died while the trial was running", w), Time: time.Now()}
			if err := j.append(rec, false); err != nil {
				return err
			}
		}
		return j.f.Sync()
	})
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// locked runs fn holding a flock of the given kind on the journal.
func (j *JournalStorage) locked(how int, fn func() error) error {
	fd := int(j.f.Fd())
	for {
		err := syscall.Flock(fd, how)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("journal %s: flock: %w", j.path, err)
		}
	}
	defer syscall.Flock(fd, syscall.LOCK_UN)
	return fn()
}

// replay applies the lines appended since the last replay (by anyone).
func (j *JournalStorage) replay() error {
	st, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if st.Size() <= j.offset {
		return nil
	}
	buf := make([]byte, st.Size()-j.offset)
	if _, err := j.f.ReadAt(buf, j.offset); err != nil && err != io.EOF {
		return fmt.Errorf("journal %s: read: %w", j.path, err)
	}
	line := 0
	for len(buf) > 0 {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			// Writers hold the lock for a whole line, so a line without its newline can only
			// be a write cut short by a crash.
			fmt.Fprintf(j.warn, "hpo: journal %s: ignoring torn last line at byte %d (%d bytes)\n", j.path, j.offset, len(buf))
			j.offset += int64(len(buf))
			j.torn = true
			break
		}
		j.torn = false
		text := buf[:i]
		if len(bytes.TrimSpace(text)) > 0 {
			if err := j.apply(text); err != nil {
				fmt.Fprintf(j.warn, "hpo: journal %s byte %d: ignoring line: %v\n", j.path, j.offset, err)
			}
		}
		j.offset += int64(i + 1)
		buf = buf[i+1:]
		line++
	}
	return nil
}

func (j *JournalStorage) apply(text []byte) error {
	var r journalRecord
	if err := json.Unmarshal(text, &r); err != nil {
		return err
	}
	switch r.Op {
	case "study":
		return j.b.setDirection(r.Dir)
	case "enqueue":
		j.b.enqueue(r.Fixed, r.Time)
	case "create":
		t := j.b.create(r.Time)
		j.workers[t.Number] = r.Worker
		j.lastCreated = t.Number
	case "param":
		if r.Dist == nil {
			return fmt.Errorf("param %q of trial %d has no distribution", r.Name, r.Number)
		}
		return j.b.setParam(r.Number, r.Name, *r.Dist, float64(r.Value))
	case "report":
		return j.b.report(r.Number, r.Step, float64(r.Value))
	case "attr":
		return j.b.setAttr(r.Number, r.Key, float64(r.Value))
	case "finish":
		return j.b.finish(r.Number, r.State, float64(r.Value), r.Reason, r.Time)
	default:
		return fmt.Errorf("unknown op %q", r.Op)
	}
	return nil
}

// append writes one record (the caller holds the exclusive lock and has replayed) and applies
// it to the in-memory book, so the local view matches what a replay of the file would give.
func (j *JournalStorage) append(r journalRecord, sync bool) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("journal %s: encode %s: %w", j.path, r.Op, err)
	}
	if j.torn {
		line = append([]byte{'\n'}, line...)
	}
	line = append(line, '\n')
	if _, err := j.f.Write(line); err != nil {
		return fmt.Errorf("journal %s: write: %w", j.path, err)
	}
	j.offset += int64(len(line))
	j.torn = false
	if sync {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("journal %s: fsync: %w", j.path, err)
		}
	}
	return j.apply(line[bytes.IndexByte(line, '{'):])
}

// write replays, lets check validate against the fresh state, then appends.
func (j *JournalStorage) write(r journalRecord, sync bool, check func() error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.locked(syscall.LOCK_EX, func() error {
		if err := j.replay(); err != nil {
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
	if err := j.read(func() { have = j.b.direction }); err != nil {
		return err
	}
	if have == d {
		return nil
	}
	return j.write(journalRecord{Op: "study", Dir: d}, true, func() error {
		probe := j.b
		return probe.setDirection(d)
	})
}

// EnqueueTrial implements Storage.
func (j *JournalStorage) EnqueueTrial(fixed map[string]any) (int, error) {
	n := -1
	err := j.write(journalRecord{Op: "enqueue", Fixed: fixed}, false, func() error {
		n = len(j.b.trials)
		return nil
	})
	return n, err
}

// CreateTrial implements Storage.
func (j *JournalStorage) CreateTrial() (FrozenTrial, error) {
	var out FrozenTrial
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.locked(syscall.LOCK_EX, func() error {
		if err := j.replay(); err != nil {
			return err
		}
		if err := j.append(journalRecord{Op: "create", Worker: j.self, Time: time.Now()}, false); err != nil {
			return err
		}
		out = j.b.trials[j.lastCreated].clone()
		return nil
	})
	return out, err
}

func (j *JournalStorage) checkRunning(number int) func() error {
	return func() error {
		_, err := j.b.running(number)
		return err
	}
}

// SetParam implements Storage.
func (j *JournalStorage) SetParam(number int, name string, d Distribution, v float64) error {
	return j.write(journalRecord{Op: "param", Number: number, Name: name, Dist: &d, Value: jfloat(v)}, false, j.checkRunning(number))
}

// Report implements Storage.
func (j *JournalStorage) Report(number, step int, v float64) error {
	return j.write(journalRecord{Op: "report", Number: number, Step: step, Value: jfloat(v)}, false, j.checkRunning(number))
}

// SetSystemAttr implements Storage.
func (j *JournalStorage) SetSystemAttr(number int, key string, v float64) error {
	return j.write(journalRecord{Op: "attr", Number: number, Key: key, Value: jfloat(v)}, false, j.checkRunning(number))
}

// FinishTrial implements Storage; the journal is fsynced so that a finished trial survives.
func (j *JournalStorage) FinishTrial(number int, state TrialState, v float64, reason string) error {
	return j.write(journalRecord{Op: "finish", Number: number, State: state, Value: jfloat(v), Reason: reason}, true, j.checkRunning(number))
}

// Trials implements Storage.
func (j *JournalStorage) Trials() ([]FrozenTrial, error) {
	var out []FrozenTrial
	err := j.read(func() { out = j.b.snapshot() })
	return out, err
}

// sharedTrials implements sharedStorage.
func (j *JournalStorage) sharedTrials() ([]FrozenTrial, error) {
	var out []FrozenTrial
	err := j.read(func() { out = j.b.snapshotShared() })
	return out, err
}

// Trial implements Storage.
func (j *JournalStorage) Trial(number int) (FrozenTrial, error) {
	var out FrozenTrial
	var err error
	if rerr := j.read(func() { out, err = j.b.get(number) }); rerr != nil {
		return out, rerr
	}
	return out, err
}

// Close implements Storage.
func (j *JournalStorage) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.f.Close()
}
