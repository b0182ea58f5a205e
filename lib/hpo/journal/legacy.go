package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
)

// hw1's first journal format: one JSON object per line with an "op" (study, worker, enqueue,
// create, param, report, attr, finish), written by hw1 before it wrote Optuna's format. A
// journal in it is converted once, when Open opens it: it is replayed as before (a
// damaged line stops the conversion with a *Error naming the line, and Repair
// repairs the file and converts it in one step), written in Optuna's format to a temporary
// file, the original copied to PATH.bak-<UTC time>, and the new file renamed over the journal,
// under the journal's locks; one message says so. Its trials keep their numbers, states,
// values, parameters, intermediate values, reasons, worker registrations and the random
// streams' positions, so a seeded study goes on as if it had never been converted. Two things
// change: a WAITING trial loses the time it was enqueued (Optuna has none), and times keep
// microseconds.

// journalFormat is the format of a journal file.
type journalFormat int

const (
	formatOptuna journalFormat = iota
	formatLegacy
)

// legacyWorkerID is the worker_id of the converted lines that named no worker.
const legacyWorkerID = "hw1-v1"

// jfloat is a float64 of the first format: NaN and infinities are written as strings.
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

// legacyRecord is one line of the first format. The oldest lines lack "n" on create and
// enqueue lines and on every line of trial 0; a missing "n" reads as "the next trial" on
// create and enqueue lines and as trial 0 on the others.
type legacyRecord struct {
	Op     string            `json:"op"`
	Number *int              `json:"n,omitempty"`
	Index  *int              `json:"k,omitempty"` // worker index of a "worker" line
	Dir    hpo.Direction     `json:"dir,omitempty"`
	Name   string            `json:"name,omitempty"`
	Dist   *hpo.Distribution `json:"dist,omitempty"`
	Value  jfloat            `json:"v,omitempty"`
	Step   int               `json:"step,omitempty"`
	Key    string            `json:"key,omitempty"`
	State  hpo.TrialState    `json:"state,omitempty"`
	Reason string            `json:"reason,omitempty"`
	Fixed  map[string]any    `json:"fixed,omitempty"`
	Worker string            `json:"worker,omitempty"`
	ID     string            `json:"id,omitempty"`
	Time   time.Time         `json:"t"`
}

// decodeLegacy reads one line of the first format; its journal has one study, id 0.
func decodeLegacy(text []byte) (journalEvent, error) {
	ev := journalEvent{what: "line", trialID: -1, index: -1, raw: text}
	var r legacyRecord
	if err := json.Unmarshal(text, &r); err != nil {
		return ev, fmt.Errorf("not valid JSON (%v)", err)
	}
	ev.what, ev.worker, ev.id, ev.time = r.Op, r.Worker, r.ID, r.Time
	trial := 0
	if r.Number != nil {
		trial = *r.Number
	}
	switch r.Op {
	case "study":
		ev.op, ev.dirs = evDirection, []hpo.Direction{r.Dir}
	case "worker":
		ev.op = evWorker
		if r.Index != nil {
			ev.index = *r.Index
		}
	case "enqueue":
		ev.op, ev.number, ev.fixed = evEnqueue, r.Number, r.Fixed
	case "create":
		ev.op, ev.number = evCreate, r.Number
	case "param":
		ev.op, ev.number, ev.name, ev.dist, ev.value = evParam, intp(trial), r.Name, r.Dist, float64(r.Value)
	case "report":
		ev.op, ev.number, ev.step, ev.value = evReport, intp(trial), r.Step, float64(r.Value)
	case "attr":
		ev.op, ev.number, ev.key, ev.value = evAttr, intp(trial), r.Key, float64(r.Value)
	case "finish":
		ev.op, ev.number, ev.state, ev.value, ev.reason = evFinish, intp(trial), r.State, float64(r.Value), r.Reason
	default:
		return ev, fmt.Errorf("unknown op %q", r.Op)
	}
	return ev, nil
}

// newLegacyState is the replay state of a first-format journal: its one study, named name,
// exists from the start (its direction comes with its study line).
func newLegacyState(name string) journalState {
	s := newJournalState()
	s.studies = append(s.studies, newJournalStudy(0, name, nil))
	return s
}

// detectFormat reads the journal's first line that is not blank: a line with "op" and no
// "op_code" (or, if it is not JSON, text that looks so) is of the first format.
func detectFormat(f *os.File) (journalFormat, error) {
	buf := make([]byte, 64<<10)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return formatOptuna, fmt.Errorf("journal %s: read: %w", f.Name(), err)
	}
	for _, line := range bytes.Split(buf[:n], []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var probe map[string]json.RawMessage
		if json.Unmarshal(line, &probe) == nil {
			_, op := probe["op"]
			_, code := probe["op_code"]
			if op && !code {
				return formatLegacy, nil
			}
			return formatOptuna, nil
		}
		if bytes.Contains(line, []byte(`"op"`)) && !bytes.Contains(line, []byte(`"op_code"`)) {
			return formatLegacy, nil
		}
		return formatOptuna, nil
	}
	return formatOptuna, nil
}

// replayLegacy replays a first-format journal strictly, as Open did before, and returns
// its events; a damaged line is a *Error. A torn last line is left out (the first
// format cut it off before the next append).
func replayLegacy(path string, data []byte, name string, warn io.Writer) ([]journalEvent, journalState, error) {
	st := newLegacyState(name)
	var evs []journalEvent
	offset := int64(0)
	for line := 1; len(data) > 0; line++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			fmt.Fprintf(warn, "hpo: journal %s: ignoring its torn last line (line %d, byte %d, %d bytes: a write cut short)\n", path, line, offset, len(data))
			break
		}
		if text := data[:i]; len(bytes.TrimSpace(text)) > 0 {
			ev, err := decodeLegacy(text)
			if err == nil {
				err = st.apply(&ev)
			}
			if err != nil {
				return nil, st, newJournalError(path, line, offset, text, err, &st, formatLegacy)
			}
			evs = append(evs, ev)
		}
		offset += int64(i + 1)
		data = data[i+1:]
	}
	return evs, st, nil
}

// encodeLegacyJournal writes the events of a first-format journal (replayed, or repaired) as
// a journal of Optuna's format, and checks that it replays.
func encodeLegacyJournal(path string, evs []journalEvent, st *journalState, name string) ([]byte, error) {
	dir := st.studies[0].b.Direction
	if dir == "" {
		dir = hpo.Minimize // no study line survived; NewStudy's default
	}
	out := newJournalState()
	var buf bytes.Buffer
	emit := func(ev journalEvent) error {
		line, err := out.encodeOptuna(&ev)
		if err != nil {
			return fmt.Errorf("journal %s: convert its %s line: %w", path, ev.what, err)
		}
		back, err := out.decodeOptuna(line)
		if err == nil {
			err = out.apply(&back)
		}
		if err != nil {
			return fmt.Errorf("journal %s: the converted journal would not replay at its line %d (%v); nothing was changed", path, bytes.Count(buf.Bytes(), []byte("\n"))+1, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
		return nil
	}
	for _, ev := range studyEvents(name, dir, legacyWorkerID, 0) {
		if err := emit(ev); err != nil {
			return nil, err
		}
	}
	for _, ev := range evs {
		if ev.op == evDirection {
			continue
		}
		ev.study = 0
		if ev.worker == "" {
			ev.worker = legacyWorkerID
		} else {
			ev.worker += ":hw1-" + ev.id // hw1's worker_id, so that a dead worker's trial is still failed
		}
		ev.id = ""
		if ev.op == evFinish && ev.reason != "" {
			if err := emit(journalEvent{op: evReason, what: "reason", study: 0, number: ev.number, reason: ev.reason, worker: ev.worker}); err != nil {
				return nil, err
			}
		}
		if err := emit(ev); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// studyEvents are the lines that create a study: Optuna's CREATE_STUDY, and hw1's copy of its
// name and direction, from which a repair rebuilds a damaged CREATE_STUDY line.
func studyEvents(name string, dir hpo.Direction, worker string, id int) []journalEvent {
	attr, _ := json.Marshal(map[string]string{"name": name, "direction": string(dir)})
	return []journalEvent{
		{op: evStudy, what: "CREATE_STUDY", name: name, dirs: []hpo.Direction{dir}, worker: worker, study: id},
		{op: evStudyAttr, what: "SET_STUDY_SYSTEM_ATTR", key: attrHW1Study, attr: attr, worker: worker, study: id},
	}
}

// convertLegacy converts the first-format journal open in j (the caller holds its flock
// exclusively and the Optuna lock) and returns the replacement, flocked until the caller
// releases the locks.
func (j *Storage) convertLegacy() (*os.File, error) {
	data, err := readAll(j.f)
	if err != nil {
		return nil, fmt.Errorf("journal %s: read: %w", j.path, err)
	}
	name := j.name
	if name == "" {
		name = j.newStudyName()
	}
	evs, st, err := replayLegacy(j.path, data, name, j.warn)
	if err != nil {
		return nil, err
	}
	out, err := encodeLegacyJournal(j.path, evs, &st, name)
	if err != nil {
		return nil, err
	}
	backup, err := writeBackup(j.path, data)
	if err != nil {
		return nil, err
	}
	nf, err := replaceJournal(j.path, out)
	if err != nil {
		return nil, fmt.Errorf("journal %s: write the converted journal (the original is in %s): %w", j.path, backup, err)
	}
	fmt.Fprintf(j.warn, "hpo: journal %s was in hw1's first journal format; converted it to Optuna's JournalStorage format (study %q, %d trials), which Optuna and optuna-dashboard read; the original is kept as %s\n",
		j.path, name, len(st.studies[0].b.Trials), backup)
	return nf, nil
}

func readAll(f *os.File) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, st.Size())
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return buf[:n], nil
}
