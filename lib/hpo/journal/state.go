package journal

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
)

// journalEvent is one line of a journal as the replay applies it, whichever format the line is
// in (Optuna's, or hw1's first format, see legacy.go): decoding a line turns its
// trial_id into the trial's study and number, and its operation into one of the ev* below.
type journalEvent struct {
	op   string // one of the ev* constants
	what string // the line's operation as the file names it, for messages
	// study is the study's id, the rank of its CREATE_STUDY among the studies; number the
	// trial's number in it (nil on a create or enqueue: the next trial).
	study  int
	number *int
	// trialID is the trial_id a line names (-1: none); hw1ID the one a create line hw1 wrote
	// says the trial gets.
	trialID int
	hw1ID   *int
	// unknown says that the trial_id names no trial: number is then a guess, for messages.
	unknown bool
	index   int // worker index (evWorker)
	// name is the study's name (evStudy) or the parameter's (evParam).
	name     string
	dirs     []hpo.Direction
	dist     *hpo.Distribution
	distJSON string            // the parameter's distribution as the line wrote it
	dists    map[string]string // tmpl's distributions as the line wrote them
	value    float64
	step     int
	key      string
	attr     json.RawMessage // evStudyAttr: the attribute's value
	state    hpo.TrialState
	reason   string
	fixed    map[string]any
	// tmpl is the trial a CREATE_TRIAL line gives whole (Optuna's enqueue_trial and add_trial):
	// its state, parameters, values and attributes.
	tmpl   *hpo.FrozenTrial
	worker string // who wrote the line: Optuna's worker_id, or the first format's "host:pid"
	id     string // the first format's storage id
	time   time.Time
	raw    []byte // the line as read, which a repair copies
}

// The operations of journalEvent.
const (
	evStudy     = "study"     // CREATE_STUDY (a second one of a live name is ignored, as Optuna)
	evDirection = "direction" // the first format's study line: sets the one study's direction
	evDelete    = "delete"    // DELETE_STUDY
	evStudyAttr = "studyattr" // a study attribute hw1 does not use
	evWorker    = "worker"    // a worker's registration (RegisterWorker)
	evEnqueue   = "enqueue"   // a new WAITING trial
	evCreate    = "create"    // a new RUNNING trial, or a WAITING one started
	evAdd       = "add"       // a finished trial added whole (Optuna's add_trial)
	evParam     = "param"
	evReport    = "report"
	evAttr      = "attr"      // a numeric system attribute
	evReason    = "reason"    // a failed trial's reason
	evTrialAttr = "trialattr" // a trial attribute hw1 does not use
	evFinish    = "finish"
	// evSkip is a line that Optuna's replay ignores: a start of a trial that another worker
	// started first, a parameter whose distribution the study refuses (its writer got the
	// error), a create for a deleted study, an operation of Rustuna's.
	evSkip = "skip"
)

func intp(n int) *int { return &n }

func isTrialEvent(op string) bool {
	switch op {
	case evParam, evReport, evAttr, evReason, evTrialAttr, evFinish:
		return true
	}
	return false
}

// journalState is what a replay builds: every study of the journal with its trials, and the
// trial_ids, which Optuna counts over the whole file.
type journalState struct {
	studies []*journalStudy
	trials  []trialRef // by trial_id
	// last is the study of the latest trial created (-1: none): a line about a trial that no
	// line created is taken to be about it.
	last int
	// dists holds the categorical distributions read from the journal (by their labels) and
	// their JSON, so that hw1 writes Optuna's own JSON, with Python's choice types, for them.
	dists map[string][]knownDist
	// parsed caches the distributions of SET_TRIAL_PARAM lines by their JSON, which repeats.
	parsed map[string]hpo.Distribution
}

type trialRef struct{ study, number int }

type knownDist struct {
	d    hpo.Distribution
	json string
}

// journalStudy is one study of the journal.
type journalStudy struct {
	id      int
	name    string
	dirs    []hpo.Direction
	deleted bool
	b       hpo.TrialBook
	ids     []int               // trial number -> trial_id
	creator map[int]workerRef   // trial number -> the worker that started it
	slots   map[int]workerRef   // worker index -> its latest registrant
	first   map[string]trialRef // parameter -> the lowest-numbered trial that has it
}

func newJournalState() journalState {
	return journalState{last: -1, dists: map[string][]knownDist{}, parsed: map[string]hpo.Distribution{}}
}

func newJournalStudy(id int, name string, dirs []hpo.Direction) *journalStudy {
	st := &journalStudy{id: id, name: name, dirs: dirs, creator: map[int]workerRef{}, slots: map[int]workerRef{},
		first: map[string]trialRef{}}
	if len(dirs) == 1 {
		st.b.Direction = dirs[0]
	}
	return st
}

// byName returns the live study of a name, or nil.
func (s *journalState) byName(name string) *journalStudy {
	for i := len(s.studies) - 1; i >= 0; i-- {
		if st := s.studies[i]; !st.deleted && st.name == name {
			return st
		}
	}
	return nil
}

// liveNames lists the names of the studies not deleted, in creation order.
func (s *journalState) liveNames() []string {
	var out []string
	for _, st := range s.studies {
		if !st.deleted {
			out = append(out, st.name)
		}
	}
	return out
}

// resolve names the trial of a trial_id. A trial_id that no line created is taken to be a
// later trial of the latest study (known false), so that messages and a repair can say which.
func (s *journalState) resolve(trialID int) (study, number int, known bool) {
	if trialID >= 0 && trialID < len(s.trials) {
		r := s.trials[trialID]
		return r.study, r.number, true
	}
	study = max(s.last, 0)
	have := 0
	if study < len(s.studies) {
		have = len(s.studies[study].b.Trials)
	}
	return study, have + max(trialID-len(s.trials), 0), false
}

func (s *journalState) studyOf(ev *journalEvent) (*journalStudy, error) {
	if ev.study < 0 || ev.study >= len(s.studies) {
		return nil, fmt.Errorf("%s names study_id %d, but there are %d studies (a line before it is missing or damaged)", ev.what, ev.study, len(s.studies))
	}
	return s.studies[ev.study], nil
}

func (ev *journalEvent) trial() int {
	if ev.number == nil {
		return 0
	}
	return *ev.number
}

// apply applies one event, or says why it does not fit the journal before it and changes
// nothing.
func (s *journalState) apply(ev *journalEvent) error {
	if err := s.check(ev); err != nil {
		return err
	}
	if ev.op == evSkip {
		return nil
	}
	for name, js := range ev.dists {
		s.noteDist(ev.tmpl.Distributions[name], js)
	}
	if ev.op == evStudy {
		if s.byName(ev.name) == nil {
			s.studies = append(s.studies, newJournalStudy(len(s.studies), ev.name, ev.dirs))
		}
		return nil
	}
	st := s.studies[ev.study]
	b := &st.b
	switch ev.op {
	case evDirection:
		if err := b.SetDirection(ev.dirs[0]); err != nil {
			return err
		}
		st.dirs = ev.dirs
	case evDelete:
		st.deleted = true
	case evWorker:
		st.slots[ev.index] = parseWorkerRef(ev.worker, ev.id)
	case evEnqueue:
		n := b.Enqueue(ev.fixed)
		s.created(st, n, ev.tmpl)
	case evCreate:
		n := b.NextNumber()
		if ev.number != nil {
			n = *ev.number
		}
		isNew := n == len(b.Trials)
		if _, err := b.CreateNumber(n, ev.time); err != nil {
			return err
		}
		if isNew {
			s.created(st, n, ev.tmpl)
		}
		st.creator[n] = parseWorkerRef(ev.worker, ev.id)
	case evAdd:
		t := hpo.NewFrozenTrial(len(b.Trials), ev.tmpl.State, nil, ev.tmpl.DatetimeStart)
		b.Trials = append(b.Trials, t)
		s.created(st, t.Number, ev.tmpl)
	case evParam:
		n := ev.trial()
		if err := b.SetParam(n, ev.name, *ev.dist, ev.value); err != nil {
			return err
		}
		s.noteParam(st, n, ev.name)
		s.noteDist(*ev.dist, ev.distJSON)
	case evReport:
		err := b.Report(ev.trial(), ev.step, ev.value)
		return err
	case evAttr:
		b.Trials[ev.trial()].SystemAttrs[ev.key] = ev.value
	case evReason:
		b.Trials[ev.trial()].FailReason = ev.reason
	case evFinish:
		n := ev.trial()
		reason := ev.reason
		if reason == "" {
			reason = b.Trials[n].FailReason // Optuna's lines give it in a system attribute before
		}
		return b.Finish(n, ev.state, ev.value, reason, ev.time)
	}
	return nil
}

// created records a new trial's trial_id and copies what its line gave whole.
func (s *journalState) created(st *journalStudy, n int, tmpl *hpo.FrozenTrial) {
	st.ids = append(st.ids, len(s.trials))
	s.trials = append(s.trials, trialRef{st.id, n})
	s.last = st.id
	if tmpl == nil {
		return
	}
	t := st.b.Trials[n]
	for k, v := range tmpl.Params {
		t.Params[k] = v
		t.Distributions[k] = tmpl.Distributions[k]
		s.noteParam(st, n, k)
	}
	for k, v := range tmpl.Intermediate {
		t.Intermediate[k] = v
	}
	for k, v := range tmpl.SystemAttrs {
		t.SystemAttrs[k] = v
	}
	if tmpl.FixedParams != nil {
		t.FixedParams = tmpl.FixedParams
	}
	if tmpl.State.Finished() {
		t.Value, t.FailReason, t.DatetimeComplete = tmpl.Value, tmpl.FailReason, tmpl.DatetimeComplete
		if tmpl.State == hpo.Failed {
			t.Value = math.NaN()
		}
	}
}

// noteParam keeps, per parameter, the lowest-numbered trial that has it: Optuna checks a new
// parameter's distribution against that trial's.
func (s *journalState) noteParam(st *journalStudy, n int, name string) {
	if f, ok := st.first[name]; !ok || n < f.number {
		st.first[name] = trialRef{st.id, n}
	}
}

func (s *journalState) noteDist(d hpo.Distribution, js string) {
	if js == "" || d.Kind != hpo.CategoricalKind {
		return // only categorical choices lose their type in a Distribution
	}
	name := strings.Join(d.Choices, "\x00")
	for _, k := range s.dists[name] {
		if k.d.Equal(d) {
			return
		}
	}
	s.dists[name] = append(s.dists[name], knownDist{d, js})
}

// distJSON is the JSON hw1 writes for a distribution: the journal's own when it holds an
// equal one (Python's choice types kept), else OptunaDistributionJSON's.
func (s *journalState) distJSON(d hpo.Distribution) (string, error) {
	if d.Kind == hpo.CategoricalKind {
		for _, k := range s.dists[strings.Join(d.Choices, "\x00")] {
			if k.d.Equal(d) {
				return k.json, nil
			}
		}
	}
	return OptunaDistributionJSON(d)
}

// compatible applies Optuna's check_distribution_compatibility: a parameter keeps its kind,
// its log scale and, for a categorical one, its choices, across the trials of a study.
func compatible(old, d hpo.Distribution) error {
	switch {
	case old.Kind != d.Kind:
		return fmt.Errorf("it was drawn from a %s distribution, now a %s one (Optuna refuses a change of kind)", old.Kind, d.Kind)
	case old.Kind != hpo.CategoricalKind && old.Log != d.Log:
		return fmt.Errorf("its log scale was %v, now %v (Optuna refuses the change)", old.Log, d.Log)
	case old.Kind == hpo.CategoricalKind && !old.Equal(d):
		return fmt.Errorf("its choices were %v, now %v (Optuna refuses a change of choices)", old.Choices, d.Choices)
	}
	return nil
}

// studyCompatible says why Optuna would refuse a parameter's distribution in a study, if it
// would.
func (st *journalStudy) studyCompatible(name string, d hpo.Distribution) error {
	f, ok := st.first[name]
	if !ok {
		return nil
	}
	if err := compatible(st.b.Trials[f.number].Distributions[name], d); err != nil {
		return fmt.Errorf("parameter %q: %v than in trial %d", name, err, f.number)
	}
	return nil
}

// check says why an event does not fit the journal before it, if it does not.
func (s *journalState) check(ev *journalEvent) error {
	if ev.op == evSkip && ev.study < 0 {
		return nil
	}
	if ev.op == evStudy {
		if ev.name == "" {
			return fmt.Errorf("%s without a study name", ev.what)
		}
		if len(ev.dirs) == 0 {
			return fmt.Errorf("%s of study %q without directions", ev.what, ev.name)
		}
		for _, d := range ev.dirs {
			if d != hpo.Minimize && d != hpo.Maximize {
				return fmt.Errorf("%s of study %q: direction %q is neither %s nor %s", ev.what, ev.name, d, hpo.Minimize, hpo.Maximize)
			}
		}
		return nil
	}
	st, err := s.studyOf(ev)
	if err != nil {
		return err
	}
	b := &st.b
	switch ev.op {
	case evDirection:
		probe := hpo.TrialBook{Direction: b.Direction}
		return probe.SetDirection(ev.dirs[0])
	case evWorker:
		if ev.index < 0 {
			return fmt.Errorf("%s without a worker index", ev.what)
		}
	case evDelete, evStudyAttr, evSkip:
	case evEnqueue, evAdd:
		if ev.number != nil && *ev.number != len(b.Trials) {
			return fmt.Errorf("%s of trial %d, but the next trial is %d (a line before it is missing or damaged)", ev.what, *ev.number, len(b.Trials))
		}
		if err := s.checkNewID(ev); err != nil {
			return err
		}
		return checkTemplate(ev)
	case evCreate:
		if (ev.number == nil || *ev.number == len(b.Trials)) && !ev.unknown {
			if err := s.checkNewID(ev); err != nil {
				return err
			}
			return checkTemplate(ev)
		}
		n := *ev.number
		if n < 0 || n > len(b.Trials) || ev.unknown {
			return fmt.Errorf("%s of trial %d, but there are %d trials (a line before it is missing or damaged)", ev.what, n, len(b.Trials))
		}
		if b.Trials[n].State != hpo.Waiting {
			return fmt.Errorf("%s of trial %d, which already exists and is %s", ev.what, n, b.Trials[n].State)
		}
	default:
		if !isTrialEvent(ev.op) {
			return fmt.Errorf("unknown op %q", ev.op)
		}
		n := ev.trial()
		if ev.op == evAttr || ev.op == evReason || ev.op == evTrialAttr {
			// Optuna lets attributes be set on a WAITING trial too.
			if n < 0 || n >= len(b.Trials) {
				return fmt.Errorf("%s: trial %d does not exist (%d trials)", ev.what, n, len(b.Trials))
			}
			if state := b.Trials[n].State; state.Finished() {
				return fmt.Errorf("%s: trial %d is %s, so it cannot change", ev.what, n, state)
			}
			return nil
		}
		t, err := b.Running(n)
		if err != nil {
			return fmt.Errorf("%s: %w", ev.what, err)
		}
		switch ev.op {
		case evParam:
			if ev.dist == nil {
				return fmt.Errorf("%s %q of trial %d has no distribution", ev.what, ev.name, t.Number)
			}
			if err := ev.dist.Validate(); err != nil {
				return fmt.Errorf("%s %q of trial %d: %w", ev.what, ev.name, t.Number, err)
			}
			if math.IsNaN(ev.value) || (ev.dist.Kind == hpo.CategoricalKind && !ev.dist.Contains(ev.value)) {
				return fmt.Errorf("%s %q of trial %d: value %v does not fit %s", ev.what, ev.name, t.Number, ev.value, ev.dist)
			}
			if old, ok := t.Distributions[ev.name]; ok && !old.Equal(*ev.dist) {
				return fmt.Errorf("trial %d parameter %q: distribution %s differs from earlier %s", t.Number, ev.name, ev.dist, old)
			}
		case evReport:
			if ev.step < 0 {
				return fmt.Errorf("trial %d: step %d is negative", t.Number, ev.step)
			}
		case evFinish:
			if !ev.state.Finished() {
				return fmt.Errorf("%s of trial %d: %q is not a final state", ev.what, t.Number, ev.state)
			}
		}
	}
	return nil
}

// checkNewID refuses a create line hw1 wrote whose trial_id is not the next one.
func (s *journalState) checkNewID(ev *journalEvent) error {
	if ev.hw1ID != nil && *ev.hw1ID != len(s.trials) {
		return fmt.Errorf("%s of trial_id %d, but the next trial_id is %d (a line before it is missing or damaged)", ev.what, *ev.hw1ID, len(s.trials))
	}
	return nil
}

// checkTemplate checks the trial a CREATE_TRIAL line gives whole.
func checkTemplate(ev *journalEvent) error {
	t := ev.tmpl
	if t == nil {
		return nil
	}
	for name, v := range t.Params {
		d, ok := t.Distributions[name]
		if !ok {
			return fmt.Errorf("%s: parameter %q has no distribution", ev.what, name)
		}
		if err := d.Validate(); err != nil {
			return fmt.Errorf("%s: parameter %q: %w", ev.what, name, err)
		}
		if math.IsNaN(v) || (d.Kind == hpo.CategoricalKind && !d.Contains(v)) {
			return fmt.Errorf("%s: parameter %q: value %v does not fit %s", ev.what, name, v, d)
		}
	}
	if ev.op == evAdd && !t.State.Finished() {
		return fmt.Errorf("%s: state %s", ev.what, t.State)
	}
	return nil
}

// workerRef names a process (and a storage in it) from a line's worker.
type workerRef struct {
	raw  string // "host:pid" for hw1's workers, Optuna's worker_id otherwise
	host string
	pid  int // 0: unknown
	id   string
}

// parseWorkerRef reads a worker: hw1's worker_id "<host>:<pid>:hw1-<id>", or the first
// format's "host:pid" and id. Any other worker_id (Optuna's) names nobody that can be checked.
func parseWorkerRef(worker, id string) workerRef {
	w := workerRef{raw: worker, id: id}
	hostPid := worker
	if id == "" {
		i := strings.LastIndex(worker, ":hw1-")
		if i < 0 {
			return w
		}
		hostPid, w.id = worker[:i], worker[i+1:]
		w.raw = hostPid
	}
	h, pidText, ok := strings.Cut(hostPid, ":")
	if pid, err := strconv.Atoi(pidText); ok && err == nil && pid > 0 {
		w.host, w.pid = h, pid
	}
	return w
}
