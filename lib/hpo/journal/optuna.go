package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
)

// The journal's lines are the operations of Optuna's JournalStorage (optuna/storages/journal,
// Optuna 5.0), one JSON object per line, so that Optuna, optuna-dashboard and hw1 read and
// append to the same file. Every line has "op_code" and "worker_id"; the other keys are the
// ones Optuna's replay reads for that operation. Optuna numbers studies and trials by the
// order of their CREATE_STUDY and CREATE_TRIAL lines over the whole file (a trial's
// "trial_id"), and a trial's number by its order within its study.
//
// What hw1 keeps beyond Optuna's model goes where Optuna keeps but ignores it:
//   - worker indices (RegisterWorker): study system attribute "hw1:worker:<k>", whose value is
//     the worker_id of the registrant;
//   - the study's name and direction again, in study system attribute "hw1:study", so that a
//     repair can rebuild a damaged CREATE_STUDY line;
//   - a failed trial's reason: trial system attribute "fail_reason", written just before the
//     SET_TRIAL_STATE_VALUES line that fails it;
//   - the random streams' positions: trial system attributes "hpo:worker" and
//     "hpo:stream_words:<i>" (stream.go);
//   - on the CREATE_TRIAL lines hw1 writes, "hw1_trial_id" and "hw1_number", the trial_id and
//     number the writer gave the trial, so that a replay finds a missing line before it (Optuna
//     ignores keys it does not read).
//
// The worker_id of a line hw1 writes is "<host>:<pid>:hw1-<id>", which tells whether the
// writer is alive; Optuna's own ("<uuid>-<thread>") names nobody hw1 can check, so its trials
// are never failed as dead.

// The operation codes of Optuna's JournalOperation.
const (
	opCreateStudy          = 0
	opDeleteStudy          = 1
	opSetStudyUserAttr     = 2
	opSetStudySystemAttr   = 3
	opCreateTrial          = 4
	opSetTrialParam        = 5
	opSetTrialStateValues  = 6
	opSetTrialIntermediate = 7
	opSetTrialUserAttr     = 8
	opSetTrialSystemAttr   = 9
	opDiscardTrials        = 10
)

// Attribute keys: hw1's (see above) and Optuna's own.
const (
	attrHW1Worker   = "hw1:worker:"
	attrHW1Study    = "hw1:study"
	attrFailReason  = "fail_reason"
	attrFixedParams = "fixed_params" // Optuna's enqueue_trial keeps the fixed values there
)

// Optuna's numbers and names: TrialState, StudyDirection, distribution classes, and the
// datetime format of its journal (isoformat(timespec="microseconds") of a UTC time).
const (
	optunaStateRunning            = 0
	optunaStateWaiting            = 4
	optunaDirectionNotSet         = 0
	optunaDirectionMinimize       = 1
	optunaDirectionMaximize       = 2
	optunaFloatDistribution       = "FloatDistribution"
	optunaIntDistribution         = "IntDistribution"
	optunaCategoricalDistribution = "CategoricalDistribution"
	optunaTimeLayout              = "2006-01-02T15:04:05.000000-07:00"
)

var optunaOpNames = []string{"CREATE_STUDY", "DELETE_STUDY", "SET_STUDY_USER_ATTR", "SET_STUDY_SYSTEM_ATTR",
	"CREATE_TRIAL", "SET_TRIAL_PARAM", "SET_TRIAL_STATE_VALUES", "SET_TRIAL_INTERMEDIATE_VALUE",
	"SET_TRIAL_USER_ATTR", "SET_TRIAL_SYSTEM_ATTR", "DISCARD_TRIALS"}

func optunaOpName(code int) string {
	if code >= 0 && code < len(optunaOpNames) {
		return optunaOpNames[code]
	}
	return fmt.Sprintf("op_code %d", code)
}

// OptunaTrialState returns Optuna's number for a trial state (TrialState's IntEnum value).
func OptunaTrialState(s hpo.TrialState) (int, error) {
	switch s {
	case hpo.Running:
		return 0, nil
	case hpo.Complete:
		return 1, nil
	case hpo.Pruned:
		return 2, nil
	case hpo.Failed:
		return 3, nil
	case hpo.Waiting:
		return 4, nil
	}
	return 0, fmt.Errorf("trial state %q has no Optuna number", s)
}

// TrialStateFromOptuna returns the trial state of Optuna's number for it.
func TrialStateFromOptuna(n int) (hpo.TrialState, error) {
	states := []hpo.TrialState{hpo.Running, hpo.Complete, hpo.Pruned, hpo.Failed, hpo.Waiting}
	if n < 0 || n >= len(states) {
		return "", fmt.Errorf("%d is not an Optuna trial state (0-4)", n)
	}
	return states[n], nil
}

func optunaDirection(d hpo.Direction) (int, error) {
	switch d {
	case hpo.Minimize:
		return optunaDirectionMinimize, nil
	case hpo.Maximize:
		return optunaDirectionMaximize, nil
	}
	return 0, fmt.Errorf("direction %q is neither %s nor %s", d, hpo.Minimize, hpo.Maximize)
}

func directionFromOptuna(n int) (hpo.Direction, error) {
	switch n {
	case optunaDirectionMinimize:
		return hpo.Minimize, nil
	case optunaDirectionMaximize:
		return hpo.Maximize, nil
	case optunaDirectionNotSet:
		return "", nil
	}
	return "", fmt.Errorf("%d is not an Optuna study direction (0-2)", n)
}

// OptunaTime formats a time as Optuna's journal does (UTC, ISO 8601 with microseconds).
func OptunaTime(t time.Time) string { return t.UTC().Format(optunaTimeLayout) }

// ParseOptunaTime reads a time written by OptunaTime, or by Python's datetime.isoformat.
func ParseOptunaTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// Python writes a naive datetime without an offset; Optuna's replay reads it as local.
		if t2, err2 := time.ParseInLocation("2006-01-02T15:04:05.999999", s, time.Local); err2 == nil {
			return t2, nil
		}
		return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", s)
	}
	return t, nil
}

// OptunaDistributionJSON returns Optuna's JSON of a distribution, byte for byte what
// optuna.distributions.distribution_to_json writes for it. Categorical choices are written as
// strings, since a Distribution keeps the labels only (the journal reuses the JSON it read for
// a distribution that Optuna wrote, so Python's choice types survive a Go worker).
func OptunaDistributionJSON(d hpo.Distribution) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	var b []byte
	switch d.Kind {
	case hpo.FloatKind:
		b = append(b, `{"name": "FloatDistribution", "attributes": {"step": `...)
		if d.Step == 0 {
			b = append(b, "null"...)
		} else {
			b = appendPyFloat(b, d.Step)
		}
		b = append(b, `, "low": `...)
		b = appendPyFloat(b, d.Low)
		b = append(b, `, "high": `...)
		b = appendPyFloat(b, d.High)
		b = append(b, `, "log": `...)
		b = strconv.AppendBool(b, d.Log)
	case hpo.IntKind:
		b = append(b, `{"name": "IntDistribution", "attributes": {"log": `...)
		b = strconv.AppendBool(b, d.Log)
		b = fmt.Appendf(b, `, "step": %d, "low": %d, "high": %d`, int64(d.Step), int64(d.Low), int64(d.High))
	case hpo.CategoricalKind:
		b = append(b, `{"name": "CategoricalDistribution", "attributes": {"choices": [`...)
		for i, c := range d.Choices {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPyString(b, c)
		}
		b = append(b, ']')
	}
	return string(append(b, "}}"...)), nil
}

// ParseOptunaDistribution reads Optuna's JSON of a distribution (distribution_to_json, the
// abbreviated {"type": ...} form, and the classes before Optuna 3: UniformDistribution and
// friends, read as the float or int range they are). Categorical choices become labels as
// fmt.Sprint prints Go's value of them: "16" for 16, "0.5", "true", "adam".
func ParseOptunaDistribution(s string) (hpo.Distribution, error) {
	var top struct {
		Name  string                     `json:"name"`
		Attrs map[string]json.RawMessage `json:"attributes"`
		Type  string                     `json:"type"`
	}
	dec := json.NewDecoder(strings.NewReader(pyToGoJSON(s)))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return hpo.Distribution{}, fmt.Errorf("distribution %s: not valid JSON (%v)", shorten([]byte(s)), err)
	}
	attrs, kind := top.Attrs, top.Name
	if top.Name == "" {
		// The abbreviated form keeps its fields at the top.
		if err := json.Unmarshal([]byte(pyToGoJSON(s)), &attrs); err != nil {
			return hpo.Distribution{}, fmt.Errorf("distribution %s: %v", shorten([]byte(s)), err)
		}
		kind = map[string]string{"float": optunaFloatDistribution, "int": optunaIntDistribution, "categorical": optunaCategoricalDistribution}[top.Type]
		if kind == "" {
			return hpo.Distribution{}, fmt.Errorf("distribution %s: unknown type %q", shorten([]byte(s)), top.Type)
		}
	}
	num := func(key string, def float64) (float64, error) {
		raw, ok := attrs[key]
		if !ok || string(raw) == "null" {
			return def, nil
		}
		return parseJSONFloat(raw)
	}
	boolean := func(key string) (bool, error) {
		raw, ok := attrs[key]
		if !ok {
			return false, nil
		}
		var v bool
		err := json.Unmarshal(raw, &v)
		return v, err
	}
	var d hpo.Distribution
	var errs [5]error
	switch kind {
	case optunaFloatDistribution, "UniformDistribution", "LogUniformDistribution", "DiscreteUniformDistribution":
		d.Kind = hpo.FloatKind
		d.Low, errs[0] = num("low", math.NaN())
		d.High, errs[1] = num("high", math.NaN())
		d.Step, errs[2] = num("step", 0)
		if kind == "DiscreteUniformDistribution" {
			d.Step, errs[2] = num("q", 0)
		}
		d.Log, errs[3] = boolean("log")
		if kind == "LogUniformDistribution" {
			d.Log = true
		}
	case optunaIntDistribution, "IntUniformDistribution", "IntLogUniformDistribution":
		d.Kind = hpo.IntKind
		d.Low, errs[0] = num("low", math.NaN())
		d.High, errs[1] = num("high", math.NaN())
		d.Step, errs[2] = num("step", 1)
		d.Log, errs[3] = boolean("log")
		if kind == "IntLogUniformDistribution" {
			d.Log = true
		}
	case optunaCategoricalDistribution:
		d.Kind = hpo.CategoricalKind
		var choices []json.RawMessage
		if raw, ok := attrs["choices"]; ok {
			errs[0] = json.Unmarshal(raw, &choices)
		}
		for _, c := range choices {
			label, err := choiceLabel(c)
			if err != nil {
				errs[1] = err
				break
			}
			d.Choices = append(d.Choices, label)
		}
	default:
		return hpo.Distribution{}, fmt.Errorf("distribution %s: unknown class %q", shorten([]byte(s)), kind)
	}
	for _, err := range errs {
		if err != nil {
			return hpo.Distribution{}, fmt.Errorf("distribution %s: %v", shorten([]byte(s)), err)
		}
	}
	if d.Kind == hpo.FloatKind && d.Step != 0 {
		d.High = d.EffectiveHigh()
	}
	if err := d.Validate(); err != nil {
		return hpo.Distribution{}, fmt.Errorf("distribution %s: %w", shorten([]byte(s)), err)
	}
	return d, nil
}

// choiceLabel is the label of a categorical choice in Optuna's JSON: what fmt.Sprint prints for
// the Go value a user would pass to SuggestChoice (16 and 16.0 print as "16", None as "<nil>").
func choiceLabel(raw json.RawMessage) (string, error) {
	v, err := decodeJSONValue(raw)
	if err != nil {
		return "", err
	}
	switch v.(type) {
	case map[string]any, []any:
		return "", fmt.Errorf("choice %s is not a number, string, bool or null", raw)
	}
	return fmt.Sprint(v), nil
}

// Python's json module writes NaN and the infinities as the bare words NaN, Infinity and
// -Infinity, which Go's decoder refuses. Before decoding, they are replaced (outside strings)
// by numerals far outside float64's range, which no encoder writes and the decoding helpers
// below map back; before writing, the reverse.
const (
	goNaN    = "2e999999999"
	goPosInf = "1e999999999"
	goNegInf = "-1e999999999"
)

// pyToGoJSON replaces Python's NaN, Infinity and -Infinity outside strings by the numerals above.
func pyToGoJSON(s string) string {
	if !strings.Contains(s, "NaN") && !strings.Contains(s, "Infinity") {
		return s
	}
	var b strings.Builder
	inString, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inString {
			b.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case strings.HasPrefix(s[i:], "NaN"):
			b.WriteString(goNaN)
			i += len("NaN") - 1
			continue
		case strings.HasPrefix(s[i:], "Infinity"):
			b.WriteString(goPosInf)
			i += len("Infinity") - 1
			continue
		case strings.HasPrefix(s[i:], "-Infinity"):
			b.WriteString(goNegInf)
			i += len("-Infinity") - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// parseJSONFloat reads a number, Python's special values included (after pyToGoJSON).
func parseJSONFloat(raw json.RawMessage) (float64, error) {
	switch s := string(bytes.TrimSpace(raw)); s {
	case goNaN:
		return math.NaN(), nil
	case goPosInf:
		return math.Inf(1), nil
	case goNegInf:
		return math.Inf(-1), nil
	default:
		if s == "" || s[0] == '"' || s == "null" || s == "true" || s == "false" || s[0] == '{' || s[0] == '[' {
			return 0, fmt.Errorf("%s is not a number", shorten(raw))
		}
		return strconv.ParseFloat(s, 64)
	}
}

// decodeJSONValue decodes any JSON value: numbers written as integers become int (int64 beyond
// int's range), others float64 (NaN and infinities included), objects map[string]any.
func decodeJSONValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return fromJSONNumbers(v)
}

func fromJSONNumbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				if int64(int(n)) == n {
					return int(n), nil
				}
				return n, nil
			}
		}
		return parseJSONFloat(json.RawMessage(s))
	case map[string]any:
		for k, e := range x {
			d, err := fromJSONNumbers(e)
			if err != nil {
				return nil, err
			}
			x[k] = d
		}
	case []any:
		for i, e := range x {
			d, err := fromJSONNumbers(e)
			if err != nil {
				return nil, err
			}
			x[i] = d
		}
	}
	return v, nil
}

// appendPyFloat writes a float as Python's repr does (so as json.dumps does): 0.5, 3.0, 1e-05,
// 1e+16, NaN, Infinity.
func appendPyFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "Infinity"...)
	case math.IsInf(v, -1):
		return append(b, "-Infinity"...)
	}
	e := strconv.AppendFloat(nil, v, 'e', -1, 64)
	exp, _ := strconv.Atoi(string(e[bytes.IndexByte(e, 'e')+1:]))
	if v != 0 && (exp < -4 || exp >= 16) {
		return append(b, e...)
	}
	f := strconv.AppendFloat(nil, v, 'f', -1, 64)
	if bytes.IndexByte(f, '.') < 0 {
		f = append(f, ".0"...)
	}
	return append(b, f...)
}

// appendPyString writes a JSON string as Python's json.dumps does (ASCII only, \uXXXX escapes).
func appendPyString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, `\"`...)
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\b':
			b = append(b, `\b`...)
		case r == '\f':
			b = append(b, `\f`...)
		case r < 0x20 || r > 0x7e && r <= 0xffff:
			b = fmt.Appendf(b, `\u%04x`, r)
		case r > 0xffff:
			r -= 0x10000
			b = fmt.Appendf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b = append(b, byte(r))
		}
	}
	return append(b, '"')
}

// appendPyValue writes a value decoded by decodeJSONValue (or built by Go code: ints, floats,
// strings, bools, nil, maps and slices of them) as compact JSON with Python's special floats.
// Map keys are sorted, so that a line is the same however often it is written.
func appendPyValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendPyString(b, x), nil
	case float64:
		return appendPyFloat(b, x), nil
	case float32:
		return appendPyFloat(b, float64(x)), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendPyString(b, k), ':')
			var err error
			if b, err = appendPyValue(b, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendPyValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	return nil, fmt.Errorf("value %v (%T) cannot be written to the journal", v, v)
}

// optunaLine builds one line, its keys in the order written (Optuna's own order, so that a
// line hw1 writes reads like the one Optuna would).
type optunaLine struct{ b []byte }

func newOptunaLine(op int, worker string) *optunaLine {
	l := &optunaLine{b: make([]byte, 0, 160)}
	l.b = fmt.Appendf(l.b, `{"op_code":%d,"worker_id":`, op)
	l.b = appendPyString(l.b, worker)
	return l
}

func (l *optunaLine) key(k string) *optunaLine {
	l.b = append(appendPyString(append(l.b, ','), k), ':')
	return l
}

func (l *optunaLine) int(k string, v int) *optunaLine {
	l.key(k).b = strconv.AppendInt(l.b, int64(v), 10)
	return l
}

func (l *optunaLine) float(k string, v float64) *optunaLine {
	l.key(k).b = appendPyFloat(l.b, v)
	return l
}

func (l *optunaLine) str(k, v string) *optunaLine {
	l.key(k).b = appendPyString(l.b, v)
	return l
}

func (l *optunaLine) raw(k, v string) *optunaLine {
	l.key(k).b = append(l.b, v...)
	return l
}

func (l *optunaLine) time(k string, t time.Time) *optunaLine {
	if t.IsZero() {
		return l.raw(k, "null")
	}
	return l.str(k, OptunaTime(t))
}

// values writes Optuna's "values" of a single-objective trial: [v], or null for no value.
func (l *optunaLine) values(v float64) *optunaLine {
	if math.IsNaN(v) {
		return l.raw("values", "null")
	}
	l.key("values").b = appendPyFloat(append(l.b, '['), v)
	l.b = append(l.b, ']')
	return l
}

func (l *optunaLine) value(k string, v any) (*optunaLine, error) {
	b, err := appendPyValue(l.key(k).b, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	l.b = b
	return l, nil
}

func (l *optunaLine) bytes() []byte { return append(l.b, '}') }

// optunaFields is a decoded line: its keys and their JSON values (Python's special floats
// already replaced, see pyToGoJSON).
type optunaFields map[string]json.RawMessage

func decodeOptunaFields(text []byte) (optunaFields, error) {
	var m optunaFields
	if err := json.Unmarshal([]byte(pyToGoJSON(string(text))), &m); err != nil {
		return nil, fmt.Errorf("not valid JSON (%v)", err)
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

func (m optunaFields) has(k string) bool {
	raw, ok := m[k]
	return ok && string(raw) != "null"
}

func (m optunaFields) int(k string) (int, error) {
	raw, ok := m[k]
	if !ok {
		return 0, fmt.Errorf("no %q", k)
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		// Python may have written a whole float (3.0).
		f, ferr := parseJSONFloat(raw)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, fmt.Errorf("%q is %s, not an integer", k, shorten(raw))
		}
		n = int(f)
	}
	return n, nil
}

func (m optunaFields) optInt(k string) (*int, error) {
	if !m.has(k) {
		return nil, nil
	}
	n, err := m.int(k)
	return &n, err
}

func (m optunaFields) str(k string) (string, error) {
	raw, ok := m[k]
	if !ok {
		return "", fmt.Errorf("no %q", k)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%q is %s, not a string", k, shorten(raw))
	}
	return s, nil
}

func (m optunaFields) float(k string) (float64, error) {
	raw, ok := m[k]
	if !ok {
		return 0, fmt.Errorf("no %q", k)
	}
	v, err := parseJSONFloat(raw)
	if err != nil {
		return 0, fmt.Errorf("%q: %v", k, err)
	}
	return v, nil
}

// time reads a datetime key that must be there; null is the zero time.
func (m optunaFields) time(k string) (time.Time, error) {
	raw, ok := m[k]
	if !ok {
		return time.Time{}, fmt.Errorf("no %q", k)
	}
	if string(raw) == "null" {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, fmt.Errorf("%q is %s, not a time", k, shorten(raw))
	}
	t, err := ParseOptunaTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %v", k, err)
	}
	return t, nil
}

// one reads an attribute key's {name: value}, which Optuna's replay requires to hold one entry.
func (m optunaFields) one(k string) (string, json.RawMessage, error) {
	raw, ok := m[k]
	if !ok {
		return "", nil, fmt.Errorf("no %q", k)
	}
	var d map[string]json.RawMessage
	if err := json.Unmarshal(raw, &d); err != nil || len(d) != 1 {
		return "", nil, fmt.Errorf("%q is %s, not an object of one attribute", k, shorten(raw))
	}
	for name, v := range d {
		return name, v, nil
	}
	return "", nil, nil
}

// values reads Optuna's "values" (a list, or null): its first value, NaN for null, and how
// many there are.
func (m optunaFields) values(k string) (float64, int, error) {
	raw, ok := m[k]
	if !ok {
		return 0, 0, fmt.Errorf("no %q", k)
	}
	if string(raw) == "null" {
		return math.NaN(), 0, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return 0, 0, fmt.Errorf("%q is %s, not a list", k, shorten(raw))
	}
	if len(list) == 0 {
		return math.NaN(), 0, nil
	}
	v, err := parseJSONFloat(list[0])
	if err != nil {
		return 0, 0, fmt.Errorf("%q: %v", k, err)
	}
	return v, len(list), nil
}

// The damage report reads what it can of a line that does not decode.
var (
	reOptunaOp    = regexp.MustCompile(`"op_code"\s*:\s*(\d+)`)
	reOptunaTrial = regexp.MustCompile(`"trial_id"\s*:\s*(\d+)`)
	reOptunaStudy = regexp.MustCompile(`"study_id"\s*:\s*(\d+)`)
	reHW1Number   = regexp.MustCompile(`"hw1_number"\s*:\s*(\d+)`)
	reOptunaState = regexp.MustCompile(`"state"\s*:\s*(\d+)`)
	reStudyName   = regexp.MustCompile(`"study_name"\s*:\s*("(?:[^"\\]|\\.)*")`)
	reDirections  = regexp.MustCompile(`"directions"\s*:\s*\[\s*([12])\s*\]`)
)

// submatchInt returns the first group of re in text as an int, or -1.
func submatchInt(re *regexp.Regexp, text []byte) int {
	if m := re.FindSubmatch(text); m != nil {
		if v, err := strconv.Atoi(string(m[1])); err == nil {
			return v
		}
	}
	return -1
}

// decodeOptuna reads one line of Optuna's format into the event it is in the journal so far:
// its trial_id becomes the trial's study and number, a start of a trial that is no longer
// WAITING becomes evSkip (Optuna's first start wins), and so on. The error says what makes
// the line unreadable.
func (s *journalState) decodeOptuna(text []byte) (journalEvent, error) {
	ev := journalEvent{trialID: -1, index: -1, raw: text, what: "line"}
	m, err := decodeOptunaFields(text)
	if err != nil {
		return ev, err
	}
	if _, old := m["op"]; old && !m.has("op_code") {
		return ev, fmt.Errorf("a line of hw1's first journal format (op %s) among Optuna's", shorten(m["op"]))
	}
	code, err := m.int("op_code")
	if err != nil {
		return ev, fmt.Errorf("not an operation of Optuna's JournalStorage: %v", err)
	}
	ev.what = optunaOpName(code)
	fail := func(err error) (journalEvent, error) { return ev, fmt.Errorf("%s line: %v", ev.what, err) }
	if ev.worker, err = m.str("worker_id"); err != nil {
		return fail(err)
	}
	trialLine := func() error {
		id, err := m.int("trial_id")
		if err != nil {
			return err
		}
		ev.trialID = id
		var n int
		var known bool
		ev.study, n, known = s.resolve(id)
		ev.number, ev.unknown = intp(n), !known
		return nil
	}
	switch code {
	case opCreateStudy:
		ev.op = evStudy
		if ev.name, err = m.str("study_name"); err != nil {
			return fail(err)
		}
		var dirs []int
		if err := json.Unmarshal(m["directions"], &dirs); err != nil || len(dirs) == 0 {
			return fail(fmt.Errorf("\"directions\" is %s, not a list of directions", shorten(m["directions"])))
		}
		for _, d := range dirs {
			dir, err := directionFromOptuna(d)
			if err != nil {
				return fail(err)
			}
			ev.dirs = append(ev.dirs, dir)
		}
	case opDeleteStudy, opSetStudyUserAttr, opSetStudySystemAttr:
		ev.op = evStudyAttr
		if code == opDeleteStudy {
			ev.op = evDelete
		}
		if ev.study, err = m.int("study_id"); err != nil {
			return fail(err)
		}
		if code == opDeleteStudy {
			break
		}
		attrKey := "user_attr"
		if code == opSetStudySystemAttr {
			attrKey = "system_attr"
		}
		if ev.key, ev.attr, err = m.one(attrKey); err != nil {
			return fail(err)
		}
		if code == opSetStudySystemAttr && strings.HasPrefix(ev.key, attrHW1Worker) {
			k, kerr := strconv.Atoi(strings.TrimPrefix(ev.key, attrHW1Worker))
			var w string
			if kerr != nil || k < 0 || json.Unmarshal(ev.attr, &w) != nil {
				return fail(fmt.Errorf("worker registration %q: %s", ev.key, shorten(ev.attr)))
			}
			ev.op, ev.index, ev.worker = evWorker, k, w
		}
	case opCreateTrial:
		if err := s.decodeCreateTrial(&ev, m); err != nil {
			return fail(err)
		}
	case opSetTrialParam:
		ev.op = evParam
		if err := trialLine(); err != nil {
			return fail(err)
		}
		if ev.name, err = m.str("param_name"); err != nil {
			return fail(err)
		}
		if ev.value, err = m.float("param_value_internal"); err != nil {
			return fail(err)
		}
		if ev.distJSON, err = m.str("distribution"); err != nil {
			return fail(err)
		}
		d, ok := s.parsed[ev.distJSON]
		if !ok {
			if d, err = ParseOptunaDistribution(ev.distJSON); err != nil {
				return fail(err)
			}
			if len(s.parsed) < 10000 {
				s.parsed[ev.distJSON] = d
			}
		}
		if d.Kind == hpo.CategoricalKind {
			d.Choices = append([]string(nil), d.Choices...) // the trial keeps its own
		}
		ev.dist = &d
		if st, t := s.trialOf(&ev); t != nil {
			if _, again := t.Distributions[ev.name]; !again && st.studyCompatible(ev.name, d) != nil {
				ev.op = evSkip // Optuna's replay drops it; its writer got the error
			}
		}
	case opSetTrialStateValues:
		if err := trialLine(); err != nil {
			return fail(err)
		}
		n, err := m.int("state")
		if err != nil {
			return fail(err)
		}
		if ev.state, err = TrialStateFromOptuna(n); err != nil {
			return fail(err)
		}
		if ev.value, _, err = m.values("values"); err != nil {
			return fail(err)
		}
		switch {
		case ev.state == hpo.Running:
			if ev.time, err = m.time("datetime_start"); err != nil {
				return fail(err)
			}
			ev.op = evCreate
			if _, t := s.trialOf(&ev); t != nil && t.State != hpo.Waiting {
				ev.op = evSkip // another worker started it first: Optuna ignores this start
			}
		case ev.state.Finished():
			if ev.time, err = m.time("datetime_complete"); err != nil {
				return fail(err)
			}
			ev.op = evFinish
		default:
			ev.op = evFinish // the check refuses a finish to WAITING
		}
	case opSetTrialIntermediate:
		ev.op = evReport
		if err := trialLine(); err != nil {
			return fail(err)
		}
		if ev.step, err = m.int("step"); err != nil {
			return fail(err)
		}
		if ev.value, err = m.float("intermediate_value"); err != nil {
			return fail(err)
		}
	case opSetTrialUserAttr, opSetTrialSystemAttr:
		ev.op = evTrialAttr
		if err := trialLine(); err != nil {
			return fail(err)
		}
		attrKey := "user_attr"
		if code == opSetTrialSystemAttr {
			attrKey = "system_attr"
		}
		if ev.key, ev.attr, err = m.one(attrKey); err != nil {
			return fail(err)
		}
		if code == opSetTrialSystemAttr {
			var reason string
			if v, err := parseJSONFloat(ev.attr); err == nil {
				ev.op, ev.value = evAttr, v
			} else if ev.key == attrFailReason && json.Unmarshal(ev.attr, &reason) == nil {
				ev.op, ev.reason = evReason, reason
			}
		}
	case opDiscardTrials:
		ev.op = evSkip // Rustuna's; Optuna's replay skips it
		ev.study = -1
	default:
		return ev, fmt.Errorf("unknown op_code %d", code)
	}
	return ev, nil
}

// trialOf returns the trial an event names, if it exists.
func (s *journalState) trialOf(ev *journalEvent) (*journalStudy, *hpo.FrozenTrial) {
	if ev.trialID < 0 || ev.trialID >= len(s.trials) {
		return nil, nil
	}
	st := s.studies[ev.study]
	return st, st.b.Trials[ev.trial()]
}

// decodeCreateTrial reads a CREATE_TRIAL line: a new RUNNING trial (Optuna's create_new_trial
// without a template), a WAITING one (enqueue_trial), or a trial given whole (add_trial).
func (s *journalState) decodeCreateTrial(ev *journalEvent, m optunaFields) error {
	var err error
	if ev.study, err = m.int("study_id"); err != nil {
		return err
	}
	start, err := m.time("datetime_start")
	if err != nil {
		return err
	}
	ev.time = start
	state := hpo.Running
	if n, err := m.optInt("state"); err != nil {
		return err
	} else if n != nil {
		if state, err = TrialStateFromOptuna(*n); err != nil {
			return err
		}
	}
	if ev.hw1ID, err = m.optInt("hw1_trial_id"); err != nil {
		return err
	}
	if ev.number, err = m.optInt("hw1_number"); err != nil {
		return err
	}
	switch {
	case state == hpo.Waiting:
		ev.op = evEnqueue
	case state == hpo.Running:
		ev.op = evCreate
	default:
		ev.op = evAdd
	}
	if ev.study >= 0 && ev.study < len(s.studies) && s.studies[ev.study].deleted {
		ev.op = evSkip // Optuna creates no trial for a deleted study
		return nil
	}
	whole := state != hpo.Running
	for _, k := range []string{"distributions", "params", "intermediate_values", "system_attrs", "values", "value", "datetime_complete"} {
		whole = whole || m.has(k)
	}
	if !whole {
		return nil
	}
	t := hpo.NewFrozenTrial(0, state, nil, start)
	var dists, params, inter map[string]json.RawMessage
	for key, dst := range map[string]*map[string]json.RawMessage{"distributions": &dists, "params": &params, "intermediate_values": &inter} {
		if m.has(key) {
			if err := json.Unmarshal(m[key], dst); err != nil {
				return fmt.Errorf("%q is %s, not an object", key, shorten(m[key]))
			}
		}
	}
	jsons := map[string]string{}
	for name, raw := range dists {
		var js string
		if err := json.Unmarshal(raw, &js); err != nil {
			return fmt.Errorf("distribution of %q is %s, not a string", name, shorten(raw))
		}
		d, err := ParseOptunaDistribution(js)
		if err != nil {
			return fmt.Errorf("parameter %q: %v", name, err)
		}
		t.Distributions[name], jsons[name] = d, js
	}
	for name, raw := range params {
		v, err := parseJSONFloat(raw)
		if err != nil {
			return fmt.Errorf("parameter %q: %v", name, err)
		}
		t.Params[name] = v
	}
	for step, raw := range inter {
		n, err := strconv.Atoi(step)
		v, verr := parseJSONFloat(raw)
		if err != nil || verr != nil {
			return fmt.Errorf("intermediate value %q: %s", step, shorten(raw))
		}
		t.Intermediate[n] = v
	}
	if m.has("values") {
		t.Value, _, err = m.values("values")
	} else if m.has("value") {
		t.Value, err = m.float("value")
	}
	if err != nil {
		return err
	}
	if m.has("datetime_complete") {
		if t.DatetimeComplete, err = m.time("datetime_complete"); err != nil {
			return err
		}
	}
	if m.has("system_attrs") {
		var attrs map[string]json.RawMessage
		if err := json.Unmarshal(m["system_attrs"], &attrs); err != nil {
			return fmt.Errorf("\"system_attrs\" is %s, not an object", shorten(m["system_attrs"]))
		}
		for k, raw := range attrs {
			var reason string
			switch v, err := parseJSONFloat(raw); {
			case err == nil:
				t.SystemAttrs[k] = v
			case k == attrFixedParams:
				fixed, err := decodeJSONValue(raw)
				f, ok := fixed.(map[string]any)
				if err != nil || !ok {
					return fmt.Errorf("\"fixed_params\" is %s, not an object", shorten(raw))
				}
				t.FixedParams = f
			case k == attrFailReason && json.Unmarshal(raw, &reason) == nil:
				t.FailReason = reason
			}
		}
	}
	ev.tmpl, ev.fixed = t, t.FixedParams
	ev.dists = jsons
	return nil
}

// encodeOptuna writes an event as the line of Optuna's format that replays to it, trial_ids
// from the journal so far. Only what hw1 writes can be encoded; other lines are copied.
func (s *journalState) encodeOptuna(ev *journalEvent) ([]byte, error) {
	trialID := func() (int, error) {
		if ev.study < 0 || ev.study >= len(s.studies) {
			return 0, fmt.Errorf("study_id %d does not exist", ev.study)
		}
		st := s.studies[ev.study]
		n := ev.trial()
		if n < 0 || n >= len(st.ids) {
			return 0, fmt.Errorf("trial %d does not exist (%d trials)", n, len(st.ids))
		}
		return st.ids[n], nil
	}
	next := func() (int, error) {
		if ev.study < 0 || ev.study >= len(s.studies) {
			return 0, fmt.Errorf("study_id %d does not exist", ev.study)
		}
		return len(s.studies[ev.study].b.Trials), nil
	}
	var l *optunaLine
	switch ev.op {
	case evStudy:
		l = newOptunaLine(opCreateStudy, ev.worker).str("study_name", ev.name)
		l.key("directions").b = append(l.b, '[')
		for i, d := range ev.dirs {
			code, err := optunaDirection(d)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				l.b = append(l.b, ',')
			}
			l.b = strconv.AppendInt(l.b, int64(code), 10)
		}
		l.b = append(l.b, ']')
	case evStudyAttr:
		l = newOptunaLine(opSetStudySystemAttr, ev.worker).int("study_id", ev.study)
		l.key("system_attr").b = append(appendPyString(append(l.b, '{'), ev.key), ':')
		l.b = append(append(l.b, ev.attr...), '}')
	case evWorker:
		l = newOptunaLine(opSetStudySystemAttr, ev.worker).int("study_id", ev.study)
		l.key("system_attr").b = append(appendPyString(append(l.b, '{'), attrHW1Worker+strconv.Itoa(ev.index)), ':')
		l.b = append(appendPyString(l.b, ev.worker), '}')
	case evEnqueue, evCreate:
		n, err := next()
		if err != nil {
			return nil, err
		}
		if ev.op == evCreate && ev.number != nil && *ev.number != n {
			id, err := trialID()
			if err != nil {
				return nil, err
			}
			l = newOptunaLine(opSetTrialStateValues, ev.worker).int("trial_id", id).int("state", optunaStateRunning).
				raw("values", "null").time("datetime_start", ev.time)
			break
		}
		l = newOptunaLine(opCreateTrial, ev.worker).int("study_id", ev.study)
		if ev.op == evEnqueue {
			l.raw("datetime_start", "null").int("state", optunaStateWaiting).raw("value", "null").raw("values", "null").
				raw("distributions", "{}").raw("params", "{}").raw("user_attrs", "{}")
			fixed := map[string]any{}
			for k, v := range ev.fixed {
				fixed[k] = v
			}
			if _, err := l.value("system_attrs", map[string]any{attrFixedParams: fixed}); err != nil {
				return nil, err
			}
			l.raw("intermediate_values", "{}")
		} else {
			l.time("datetime_start", ev.time)
		}
		l.int("hw1_trial_id", len(s.trials)).int("hw1_number", n)
	case evParam, evReport, evAttr, evReason, evFinish:
		id, err := trialID()
		if err != nil {
			return nil, err
		}
		switch ev.op {
		case evParam:
			js := ev.distJSON
			if js == "" {
				if js, err = s.distJSON(*ev.dist); err != nil {
					return nil, err
				}
			}
			l = newOptunaLine(opSetTrialParam, ev.worker).int("trial_id", id).str("param_name", ev.name)
			if ev.dist.Kind == hpo.CategoricalKind {
				l.int("param_value_internal", int(ev.value))
			} else {
				l.float("param_value_internal", ev.value)
			}
			l.str("distribution", js)
		case evReport:
			l = newOptunaLine(opSetTrialIntermediate, ev.worker).int("trial_id", id).int("step", ev.step).float("intermediate_value", ev.value)
		case evAttr:
			l = newOptunaLine(opSetTrialSystemAttr, ev.worker).int("trial_id", id)
			l.key("system_attr").b = append(appendPyString(append(l.b, '{'), ev.key), ':')
			l.b = append(appendPyFloat(l.b, ev.value), '}')
		case evReason:
			l = newOptunaLine(opSetTrialSystemAttr, ev.worker).int("trial_id", id)
			l.key("system_attr").b = append(appendPyString(append(l.b, '{'), attrFailReason), ':')
			l.b = append(appendPyString(l.b, ev.reason), '}')
		case evFinish:
			code, err := OptunaTrialState(ev.state)
			if err != nil {
				return nil, err
			}
			v := ev.value
			if ev.state == hpo.Failed {
				v = math.NaN()
			}
			l = newOptunaLine(opSetTrialStateValues, ev.worker).int("trial_id", id).int("state", code).values(v).time("datetime_complete", ev.time)
		}
	default:
		return nil, fmt.Errorf("a %s line is not written by hw1", ev.op)
	}
	return l.bytes(), nil
}
