package hpo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/dlworkbench/hw1/internal/atomicfile"
)

// JournalRecoveryHint says, in an error about a damaged journal, how to recover. Commands set it
// to their own words (cmd/hw1 names `hw1 study check` and `hw1 study repair`).
var JournalRecoveryHint = func(path string) string {
	return fmt.Sprintf("hpo.CheckJournal(%q) lists the damage and hpo.RepairJournal rewrites the journal without it, keeping a backup", path)
}

// ErrJournalDamaged is matched (errors.Is) by every *JournalError.
var ErrJournalDamaged = errors.New("journal damaged")

// JournalError is a damaged line met while replaying a journal: the first one, since the
// replay stops there.
type JournalError struct {
	Path string
	JournalDamage
}

// JournalDamage is one damaged line: where it is, what is wrong with it, and which trials it
// concerns as far as the line and the lines before it tell.
type JournalDamage struct {
	Line    int   // 1-based
	Offset  int64 // byte offset of the line's start
	Text    string
	Problem string
	// Trials are the trials the line concerns; Concerns says the same in words, with how
	// sure it is (a line that is not JSON is guessed from what is left of it).
	Trials   []int
	Concerns string
}

func (e *JournalError) Error() string {
	return fmt.Sprintf("journal %s line %d (byte %d) is damaged: %s: %s; it concerns %s. Nothing was written to the journal; %s",
		e.Path, e.Line, e.Offset, e.Problem, e.Text, e.Concerns, JournalRecoveryHint(e.Path))
}

// Is makes errors.Is(err, ErrJournalDamaged) true.
func (e *JournalError) Is(target error) bool { return target == ErrJournalDamaged }

func newJournalError(path string, line int, offset int64, text []byte, problem error, st *journalState) *JournalError {
	return &JournalError{Path: path, JournalDamage: describeDamage(line, offset, text, problem.Error(), st)}
}

var (
	reOp  = regexp.MustCompile(`"op"\s*:\s*"([a-z]+)"`)
	reNum = regexp.MustCompile(`"n"\s*:\s*(\d+)`)
	reDir = regexp.MustCompile(`"dir"\s*:\s*"(MINIMIZE|MAXIMIZE)"`)
)

// guessLine reads the op and trial number of a line, decoded if it is JSON, else from what is
// left of its text; n is -1 when the line does not say.
func guessLine(text []byte) (op string, n int, decoded bool) {
	var r journalRecord
	if json.Unmarshal(text, &r) == nil {
		n = -1
		if r.Number != nil {
			n = *r.Number
		} else if trialOp(r.Op) {
			n = 0 // older lines leave out "n" for trial 0
		}
		return r.Op, n, true
	}
	n = -1
	if m := reOp.FindSubmatch(text); m != nil {
		op = string(m[1])
	}
	if m := reNum.FindSubmatch(text); m != nil {
		if v, err := strconv.Atoi(string(m[1])); err == nil {
			n = v
		}
	}
	return op, n, false
}

func trialOp(op string) bool {
	return op == "param" || op == "report" || op == "attr" || op == "finish"
}

func knownOp(op string) bool {
	switch op {
	case "study", "worker", "enqueue", "create", "param", "report", "attr", "finish":
		return true
	}
	return false
}

func (s *journalState) runningTrials() []int {
	var out []int
	for _, t := range s.b.trials {
		if t.State == Running {
			out = append(out, t.Number)
		}
	}
	return out
}

// describeDamage says which trials a damaged line concerns, from its text and the trials
// before it.
func describeDamage(line int, offset int64, text []byte, problem string, st *journalState) JournalDamage {
	d := JournalDamage{Line: line, Offset: offset, Text: shorten(text), Problem: problem}
	op, n, decoded := guessLine(text)
	looks := "the line is"
	if !decoded {
		looks = "the line looks like"
	}
	running := st.runningTrials()
	switch {
	case decoded && !knownOp(op):
		if n >= 0 {
			d.Trials = []int{n}
			d.Concerns = fmt.Sprintf("trial %d (the line names it)", n)
		} else {
			d.Concerns = "no trial that the line names"
		}
	case op == "study":
		d.Concerns = "no trial: it is the study's direction line"
	case op == "worker":
		d.Concerns = "no trial: it is a worker's registration"
	case op == "create" || op == "enqueue":
		if n < 0 {
			n = st.b.nextNumber()
			if op == "enqueue" {
				n = len(st.b.trials)
			}
		}
		d.Trials = []int{n}
		d.Concerns = fmt.Sprintf("trial %d (%s its %s line; the trials after it are numbered from it)", n, looks, op)
	case trialOp(op) && n >= 0:
		d.Trials = []int{n}
		d.Concerns = fmt.Sprintf("trial %d (%s its %s line)", n, looks, op)
	case trialOp(op):
		d.Trials = running
		d.Concerns = fmt.Sprintf("%s (running at that point; %s a %s line)", trialList(running), looks, op)
	default:
		next := st.b.nextNumber()
		d.Trials = append(append([]int(nil), running...), next)
		if len(running) > 0 {
			d.Concerns = fmt.Sprintf("%s (running at that point) or trial %d (if it was a create line)", trialList(running), next)
		} else {
			d.Concerns = fmt.Sprintf("trial %d (no trial was running at that point, so it was probably the create line of trial %d, or the study's line)", next, next)
		}
	}
	return d
}

func trialList(ns []int) string {
	switch len(ns) {
	case 0:
		return "no trial"
	case 1:
		return fmt.Sprintf("trial %d", ns[0])
	}
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return "trials " + strings.Join(parts, ", ")
}

// shorten gives a line as it is when it is short and printable, quoted when it is not.
func shorten(text []byte) string {
	const max = 160
	s := string(bytes.TrimSpace(text))
	cut := len(s) > max
	if cut {
		s = strings.ToValidUTF8(s[:max], "")
	}
	for _, r := range s {
		if !unicode.IsGraphic(r) {
			s = strconv.QuoteToGraphic(s)
			break
		}
	}
	if cut {
		s += "..."
	}
	return s
}

// JournalReport is what CheckJournal found in a journal, or what RepairJournal did to it.
type JournalReport struct {
	Path  string
	Lines int // complete lines
	// Damage lists every damaged line, in file order.
	Damage []JournalDamage
	// TornOffset and TornBytes locate a torn last line (TornBytes 0: none). A torn last line
	// is not damage: replays skip it and the next append cuts it off.
	TornOffset, TornBytes int64
	// Changes says, trial by trial, what a repair keeps, drops or changes.
	Changes []string
	// Counts of the trials as the journal holds them after a repair (for CheckJournal: as a
	// repair would leave them).
	Trials, Complete, Pruned, Failed, Running, Waiting int
	// Live lists the trials running in, and the workers registered by, live processes of this
	// host; RepairJournal refuses to replace a journal that a live worker may write to.
	Live []string
	// Backup is where RepairJournal copied the original journal ("" when it wrote nothing).
	Backup string
}

// Damaged reports whether the journal has damaged lines (a torn last line is not damage).
func (r *JournalReport) Damaged() bool { return len(r.Damage) > 0 }

// WriteText describes the report for a person: every damaged line with the trials it concerns,
// then what a repair does (or did) trial by trial.
func (r *JournalReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "journal %s: %d lines\n", r.Path, r.Lines)
	for _, d := range r.Damage {
		fmt.Fprintf(&b, "damaged line %d (byte %d): %s: %s\n  it concerns %s\n", d.Line, d.Offset, d.Problem, d.Text, d.Concerns)
	}
	if r.TornBytes > 0 {
		fmt.Fprintf(&b, "torn last line at byte %d (%d bytes, a write cut short): skipped, and cut off before the next append\n", r.TornOffset, r.TornBytes)
	}
	verb := "a repair keeps"
	if r.Backup != "" {
		verb = "the repaired journal holds"
	}
	if !r.Damaged() {
		verb = "it holds"
	}
	fmt.Fprintf(&b, "%s %d trials: %d complete, %d pruned, %d failed, %d running, %d waiting\n",
		verb, r.Trials, r.Complete, r.Pruned, r.Failed, r.Running, r.Waiting)
	for _, c := range r.Changes {
		fmt.Fprintf(&b, "  - %s\n", c)
	}
	for _, l := range r.Live {
		fmt.Fprintf(&b, "live worker: %s\n", l)
	}
	if r.Backup != "" {
		fmt.Fprintf(&b, "backup of the original: %s\n", r.Backup)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// CheckJournal reads a journal (under a shared lock, so while workers write to it) and reports
// every damaged line and what RepairJournal would do about it; it changes nothing. The error
// is for a journal that cannot be read at all.
func CheckJournal(path string) (*JournalReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if err := flock(f, syscall.LOCK_SH); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("journal %s: read: %w", path, err)
	}
	sc := scanJournal(path, data)
	return sc.rep, nil
}

// RepairJournal rewrites a damaged journal without its damaged lines, and reports what it did.
// Every trial whose lines are intact is kept as it was, finished ones included. A trial whose
// lines are partly damaged keeps what is certain, and Changes says what was dropped:
//   - a damaged create line: the trial is recreated from the lines that follow it;
//   - a lost intermediate value or system attribute: dropped, the trial keeps its state;
//   - a lost parameter line (or a line that may have been one): a COMPLETE or PRUNED trial
//     becomes FAIL, with its former state and value in the reason, since its parameters
//     are not all known and a study must not build on them;
//   - a lost finish line: the trial becomes FAIL with the reason saying so.
//
// The original is first copied to PATH.bak-<UTC time> (a new name, never an existing file),
// then the new journal is written to a temporary file, fsynced and renamed over the journal,
// all under the journal's exclusive lock; storages that still have the old file open fail
// their next call instead of writing to it. A journal without damage is left alone (a torn
// last line alone is cut off). RepairJournal refuses while a live process of this host works on
// the study (runs one of its trials, or registered as its worker and has not exited).
func RepairJournal(path string) (*JournalReport, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if err := flock(f, syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if err := sameFile(f, path); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("journal %s: read: %w", path, err)
	}
	sc := scanJournal(path, data)
	rep := sc.rep
	if !rep.Damaged() && rep.TornBytes == 0 {
		return rep, nil
	}
	if len(rep.Live) > 0 {
		return rep, fmt.Errorf("journal %s: not repaired while live workers use it (%s): stop them first", path, strings.Join(rep.Live, "; "))
	}
	if !rep.Damaged() {
		if err := f.Truncate(rep.TornOffset); err != nil {
			return rep, fmt.Errorf("journal %s: cut the torn last line: %w", path, err)
		}
		return rep, f.Sync()
	}
	out, err := sc.encode()
	if err != nil {
		return rep, err
	}
	backup, err := writeBackup(path, data)
	if err != nil {
		return rep, err
	}
	if err := atomicfile.WriteBytes(path, out); err != nil {
		return rep, fmt.Errorf("journal %s: write the repaired journal (the original is in %s): %w", path, backup, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	rep.Backup = backup
	return rep, nil
}

// writeBackup copies data to path.bak-<UTC time>, adding -1, -2, ... rather than overwrite a
// file, and fsyncs it.
func writeBackup(path string, data []byte) (string, error) {
	base := path + ".bak-" + time.Now().UTC().Format("20060102T150405Z")
	for i := 0; i < 1000; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, atomicfile.Perm)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("journal %s: backup: %w", path, err)
		}
		_, err = f.Write(data)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return "", fmt.Errorf("journal %s: backup %s: %w", path, name, err)
		}
		return name, nil
	}
	return "", fmt.Errorf("journal %s: backup: no free name after %s", path, base)
}

// journalScan is the lenient replay behind CheckJournal and RepairJournal: it applies what it
// can, records each damaged line, and recovers trial numbers from the lines that follow a
// damaged one, so that one lost create line does not shift every later trial.
type journalScan struct {
	st  journalState
	out []journalRecord // the repaired journal, line by line
	rep *JournalReport
	// damagedAt holds, per trial, the damaged line that may have been its create (explained
	// recreation), parameter (suspect) or finish line.
	createLost, paramLost, finishLost map[int]JournalDamage
	recreated                         map[int]bool
	// pendingLost counts the damaged lines that may have been create or enqueue lines and
	// have not yet explained a recreated trial: a line about trial n may recreate the trials
	// missing below n only that many (plus one, for a line that is simply missing), so that a
	// damaged trial number does not invent trials.
	pendingLost int
	host        string
}

func scanJournal(path string, data []byte) *journalScan {
	host, _ := os.Hostname()
	sc := &journalScan{st: newJournalState(), rep: &JournalReport{Path: path}, host: host,
		createLost: map[int]JournalDamage{}, paramLost: map[int]JournalDamage{},
		finishLost: map[int]JournalDamage{}, recreated: map[int]bool{}}
	offset := int64(0)
	for line := 1; len(data) > 0; line++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			sc.rep.TornOffset, sc.rep.TornBytes = offset, int64(len(data))
			break
		}
		sc.rep.Lines++
		if text := data[:i]; len(bytes.TrimSpace(text)) > 0 {
			sc.line(line, offset, text)
		}
		offset += int64(i + 1)
		data = data[i+1:]
	}
	sc.finish()
	return sc
}

func (sc *journalScan) change(s string) { sc.rep.Changes = append(sc.rep.Changes, s) }

func (sc *journalScan) line(line int, offset int64, text []byte) {
	var r journalRecord
	if err := json.Unmarshal(text, &r); err != nil {
		sc.damaged(line, offset, text, fmt.Sprintf("not valid JSON (%v)", err))
		return
	}
	if !knownOp(r.Op) {
		sc.damaged(line, offset, text, fmt.Sprintf("unknown op %q", r.Op))
		return
	}
	// A line about a trial that no line created, or created only as WAITING: the create line
	// was lost. The trial's own lines say it existed, so it is recreated.
	have := len(sc.st.b.trials)
	switch {
	case (r.Op == "create" || r.Op == "enqueue") && r.Number != nil && *r.Number > have:
		if sc.mayRecreate(*r.Number - have) {
			sc.recreateBelow(*r.Number, r.Time, line, offset, text)
		}
	case trialOp(r.Op) && r.trial() >= have:
		if n := r.trial(); sc.mayRecreate(n - have + 1) {
			sc.recreateBelow(n, r.Time, line, offset, text)
			sc.recreate(n, r.Time, line, offset, text)
		}
	case trialOp(r.Op) && r.trial() >= 0 && sc.st.b.trials[r.trial()].State == Waiting:
		if sc.mayRecreate(1) {
			sc.recreate(r.trial(), r.Time, line, offset, text)
		}
	}
	if err := sc.st.check(&r); err != nil {
		sc.damaged(line, offset, text, err.Error())
		return
	}
	if r.Op == "finish" && (r.State == Complete || r.State == Pruned) {
		if d, ok := sc.paramLost[r.trial()]; ok {
			was := fmt.Sprintf("%s with value %v", r.State, float64(r.Value))
			r.State, r.Value = Failed, jfloat(math.NaN())
			r.Reason = fmt.Sprintf("journal repair: was %s, but line %d (byte %d), which may have held one of its parameters, was damaged", was, d.Line, d.Offset)
			sc.change(fmt.Sprintf("trial %d: was %s; now FAIL, since a parameter line may be lost (line %d)", r.trial(), was, d.Line))
		}
	}
	switch r.Op {
	case "create":
		n := sc.st.b.nextNumber()
		if r.Number != nil {
			n = *r.Number
		}
		r.Number = intp(n)
	case "enqueue":
		r.Number = intp(len(sc.st.b.trials))
	}
	if err := sc.st.apply(&r); err != nil {
		sc.damaged(line, offset, text, err.Error())
		return
	}
	sc.out = append(sc.out, r)
}

// mayRecreate says whether n trials whose create lines are missing may be recreated, and
// counts them as explained.
func (sc *journalScan) mayRecreate(n int) bool {
	if n > sc.pendingLost+1 {
		return false
	}
	sc.pendingLost = max(0, sc.pendingLost-n)
	return true
}

// recreateBelow recreates the trials numbered below n that no line created.
func (sc *journalScan) recreateBelow(n int, t time.Time, line int, offset int64, text []byte) {
	for len(sc.st.b.trials) < n {
		sc.recreate(len(sc.st.b.trials), t, line, offset, text)
	}
}

// recreate starts trial n (new, or WAITING) whose create line is missing.
func (sc *journalScan) recreate(n int, t time.Time, line int, offset int64, text []byte) {
	r := journalRecord{Op: "create", Number: intp(n), Time: t}
	if err := sc.st.apply(&r); err != nil {
		return // not recreatable: the line itself is then reported by check
	}
	sc.out = append(sc.out, r)
	sc.recreated[n] = true
	if d, ok := sc.createLost[n]; ok {
		sc.change(fmt.Sprintf("trial %d: its create line (line %d) is damaged; recreated from the lines that follow", n, d.Line))
		return
	}
	d := JournalDamage{Line: line, Offset: offset, Text: shorten(text),
		Problem: fmt.Sprintf("trial %d has no create line before this one (a line is missing)", n), Trials: []int{n},
		Concerns: fmt.Sprintf("trial %d", n)}
	sc.rep.Damage = append(sc.rep.Damage, d)
	sc.change(fmt.Sprintf("trial %d: its create line is missing; recreated from line %d and the lines that follow", n, line))
}

// damaged records a line that is dropped, and what its loss may mean for the trials it
// concerns.
func (sc *journalScan) damaged(line int, offset int64, text []byte, problem string) {
	d := describeDamage(line, offset, text, problem, &sc.st)
	sc.rep.Damage = append(sc.rep.Damage, d)
	op, _, decoded := guessLine(text)
	if decoded && !knownOp(op) {
		// Whole JSON with an op nobody writes: not a lost line of ours, just dropped.
		return
	}
	if !decoded && (op == "" || op == "create" || op == "enqueue") {
		sc.pendingLost++
	}
	running := map[int]bool{}
	for _, r := range sc.st.runningTrials() {
		running[r] = true
	}
	switch {
	case op == "study":
		if m := reDir.FindSubmatch(text); m != nil && sc.st.b.direction == "" {
			r := journalRecord{Op: "study", Dir: Direction(m[1])}
			if sc.st.apply(&r) == nil {
				sc.out = append(sc.out, r)
				sc.change(fmt.Sprintf("the study's direction %s is read back from the damaged line %d", m[1], line))
				return
			}
		}
		sc.change(fmt.Sprintf("the study's direction (line %d) is lost: the next study opened on the journal sets it, so open it with the direction it had", line))
	case op == "worker":
		sc.change(fmt.Sprintf("a worker registration (line %d) is dropped: harmless", line))
	case op == "report" || op == "attr":
		what := "an intermediate value"
		if op == "attr" {
			what = "a system attribute"
		}
		for _, t := range d.Trials {
			sc.change(fmt.Sprintf("trial %d: %s (line %d) is dropped; the trial keeps its state", t, what, line))
		}
	case op == "create" || op == "enqueue":
		for _, t := range d.Trials {
			sc.createLost[t] = d
		}
		if decoded {
			sc.change(fmt.Sprintf("line %d (%s) is dropped", line, op))
		}
	default: // param, finish, or a line nothing can be read from
		if op == "" && sc.st.b.direction == "" {
			sc.change(fmt.Sprintf("if line %d was the study's line, its direction is lost: the next study opened on the journal sets it, so open it with the direction it had", line))
		}
		for _, t := range d.Trials {
			if !running[t] {
				if !trialOp(op) {
					sc.createLost[t] = d
				}
				continue
			}
			if op == "" || op == "param" {
				sc.paramLost[t] = d
			}
			if op == "" || op == "finish" {
				sc.finishLost[t] = d
			}
		}
	}
}

// finish settles the trials left RUNNING: those whose finish line may be the damaged one, or
// that were recreated and never finished, become FAIL; the others stay RUNNING (the next open
// fails them if their worker is dead).
func (sc *journalScan) finish() {
	for _, t := range sc.st.b.trials {
		if t.State != Running {
			continue
		}
		if w := sc.st.creator[t.Number]; w.pid > 0 && w.host == sc.host && workerAlive(w, sc.host) {
			sc.rep.Live = append(sc.rep.Live, fmt.Sprintf("trial %d runs in process %s", t.Number, w.raw))
			continue
		}
		var reason string
		if d, ok := sc.finishLost[t.Number]; ok {
			reason = fmt.Sprintf("journal repair: its finish line may be the damaged line %d (byte %d); its result is lost", d.Line, d.Offset)
		} else if sc.recreated[t.Number] {
			reason = "journal repair: its create line was lost and no finish line follows; its result is lost"
		} else {
			continue
		}
		r := journalRecord{Op: "finish", Number: intp(t.Number), State: Failed, Value: jfloat(math.NaN()), Reason: reason, Time: time.Now()}
		if sc.st.apply(&r) == nil {
			sc.out = append(sc.out, r)
			sc.change(fmt.Sprintf("trial %d: was RUNNING; now FAIL (%s)", t.Number, strings.TrimPrefix(reason, "journal repair: ")))
		}
	}
	slots := make([]int, 0, len(sc.st.slots))
	for k := range sc.st.slots {
		slots = append(slots, k)
	}
	sort.Ints(slots)
	for _, k := range slots {
		if w := sc.st.slots[k]; w.pid > 0 && w.host == sc.host && workerAlive(w, sc.host) {
			sc.rep.Live = append(sc.rep.Live, fmt.Sprintf("worker %d is process %s, still running", k, w.raw))
		}
	}
	sort.SliceStable(sc.rep.Damage, func(a, b int) bool { return sc.rep.Damage[a].Offset < sc.rep.Damage[b].Offset })
	for _, t := range sc.st.b.trials {
		sc.rep.Trials++
		switch t.State {
		case Complete:
			sc.rep.Complete++
		case Pruned:
			sc.rep.Pruned++
		case Failed:
			sc.rep.Failed++
		case Running:
			sc.rep.Running++
		case Waiting:
			sc.rep.Waiting++
		}
	}
}

// encode writes the repaired journal and checks that it replays without damage, so that a
// repair never writes a journal that does not open.
func (sc *journalScan) encode() ([]byte, error) {
	var buf bytes.Buffer
	check := newJournalState()
	for i := range sc.out {
		line, err := json.Marshal(sc.out[i])
		if err != nil {
			return nil, fmt.Errorf("journal %s: encode the repaired journal: %w", sc.rep.Path, err)
		}
		if err := check.applyLine(line); err != nil {
			return nil, fmt.Errorf("journal %s: the repaired journal would not replay at its line %d (%v); nothing was changed", sc.rep.Path, i+1, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}
