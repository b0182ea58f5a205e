package pgstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/journal"
	"github.com/jackc/pgx/v5"
)

// Trial system attributes with a meaning here. fail_reason and fixed_params are Optuna's names
// (fixed_params is what study.enqueue_trial writes; fail_reason is where Optuna 2 and 3.0 kept
// the reason); failed_trial and retry_history are those of Optuna's RetryFailedTrialCallback.
const (
	attrFailReason   = "fail_reason"
	attrFixedParams  = "fixed_params"
	attrFailedTrial  = "failed_trial"
	attrRetryHistory = "retry_history"
	// attrToken marks the trial created (or started) by one call of this storage, so that a
	// retry after a commit whose reply was lost finds it instead of creating another. Its value
	// starts with the worker's host:pid.
	attrToken = "hpo:token"
	// attrWorkerPrefix + k is the study system attribute holding worker index k's lease.
	attrWorkerPrefix = "hpo:worker:"
)

// valueRepr splits a value into what trial_values keeps: Optuna's TrialValueType and the number
// (NULL for infinities). NaN has no place there: ok is false.
func valueRepr(v float64) (value *float64, kind string, ok bool) {
	switch {
	case math.IsNaN(v):
		return nil, "", false
	case math.IsInf(v, 1):
		return nil, "INF_POS", true
	case math.IsInf(v, -1):
		return nil, "INF_NEG", true
	}
	return &v, "FINITE", true
}

// intermediateRepr is valueRepr for trial_intermediate_values, which also keeps NaN.
func intermediateRepr(v float64) (*float64, string) {
	if math.IsNaN(v) {
		return nil, "NAN"
	}
	value, kind, _ := valueRepr(v)
	return value, kind
}

func fromRepr(value *float64, kind string) (float64, error) {
	switch kind {
	case "FINITE":
		if value == nil {
			return math.NaN(), fmt.Errorf("FINITE value is NULL")
		}
		return *value, nil
	case "INF_POS":
		return math.Inf(1), nil
	case "INF_NEG":
		return math.Inf(-1), nil
	case "NAN":
		return math.NaN(), nil
	}
	return math.NaN(), fmt.Errorf("unknown value type %q", kind)
}

// jsonString is a JSON string (Python's json.dumps escapes non-ASCII, Go's encoder does not;
// both read either).
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// fixedJSON encodes enqueued parameters for fixed_params.
func fixedJSON(fixed map[string]any) (string, error) {
	clean := make(map[string]any, len(fixed))
	for k, v := range fixed {
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return "", fmt.Errorf("enqueued parameter %q is %v", k, f)
		}
		clean[k] = v
	}
	b, err := json.Marshal(clean)
	if err != nil {
		return "", fmt.Errorf("enqueued parameters: %w", err)
	}
	return string(b), nil
}

// sqlNow is the time a trial starts or completes: the server's clock, in naive UTC as Optuna
// stores datetime_start and datetime_complete, so that workers with skewed clocks agree.
const sqlNow = `(clock_timestamp() AT TIME ZONE 'UTC')`

// trialFilter selects trials (alias t) for loadTrials, with its arguments.
type trialFilter struct {
	where string
	args  []any
}

// batchSender is a pool or a transaction.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// loaded is one trial read from the database.
type loaded struct {
	id    int32
	trial hpo.FrozenTrial
	// choicesJSON is the distribution_json of each categorical parameter, as written.
	choicesJSON map[string]string
}

// loadTrials reads the trials that f selects, in number order, with their parameters, values,
// intermediate values and system attributes, in one round trip.
func loadTrials(ctx context.Context, q batchSender, f trialFilter) ([]loaded, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT t.trial_id, t.number, t.state::text, t.datetime_start, t.datetime_complete FROM trials t WHERE `+f.where+` ORDER BY t.number, t.trial_id`, f.args...)
	b.Queue(`SELECT p.trial_id, p.param_name, p.param_value, p.distribution_json FROM trial_params p JOIN trials t ON t.trial_id = p.trial_id WHERE `+f.where+` ORDER BY p.param_id`, f.args...)
	b.Queue(`SELECT v.trial_id, v.value, v.value_type::text FROM trial_values v JOIN trials t ON t.trial_id = v.trial_id WHERE v.objective = 0 AND `+f.where, f.args...)
	b.Queue(`SELECT v.trial_id, v.step, v.intermediate_value, v.intermediate_value_type::text FROM trial_intermediate_values v JOIN trials t ON t.trial_id = v.trial_id WHERE `+f.where, f.args...)
	b.Queue(`SELECT a.trial_id, a.key, a.value_json FROM trial_system_attributes a JOIN trials t ON t.trial_id = a.trial_id WHERE `+f.where, f.args...)
	br := q.SendBatch(ctx, b)
	defer br.Close()

	var out []loaded
	index := map[int32]int{}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("read trials: %w", err)
	}
	for rows.Next() {
		var (
			id              int32
			number          *int32
			state           string
			start, complete *time.Time
		)
		if err := rows.Scan(&id, &number, &state, &start, &complete); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read trials: %w", err)
		}
		if number == nil {
			rows.Close()
			return nil, permanent(fmt.Errorf("trial id %d has no number", id))
		}
		t := hpo.FrozenTrial{Number: int(*number), State: hpo.TrialState(state), Value: math.NaN(),
			Params: map[string]float64{}, Distributions: map[string]hpo.Distribution{},
			Intermediate: map[int]float64{}, SystemAttrs: map[string]float64{}}
		if start != nil {
			t.DatetimeStart = start.UTC()
		}
		if complete != nil {
			t.DatetimeComplete = complete.UTC()
		}
		index[id] = len(out)
		out = append(out, loaded{id: id, trial: t})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trials: %w", err)
	}
	// Rows of trials that were created after the first query ran are skipped (index misses).

	if rows, err = br.Query(); err != nil {
		return nil, fmt.Errorf("read trial_params: %w", err)
	}
	for rows.Next() {
		var (
			id    int32
			name  string
			value *float64
			dist  string
		)
		if err := rows.Scan(&id, &name, &value, &dist); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read trial_params: %w", err)
		}
		i, ok := index[id]
		if !ok {
			continue
		}
		d, err := journal.ParseOptunaDistribution(dist)
		if err != nil {
			rows.Close()
			return nil, permanent(fmt.Errorf("trial %d parameter %q: %w", out[i].trial.Number, name, err))
		}
		if value == nil {
			rows.Close()
			return nil, permanent(fmt.Errorf("trial %d parameter %q has no value", out[i].trial.Number, name))
		}
		out[i].trial.Params[name] = *value
		out[i].trial.Distributions[name] = d
		if d.Kind == hpo.CategoricalKind {
			if out[i].choicesJSON == nil {
				out[i].choicesJSON = map[string]string{}
			}
			out[i].choicesJSON[name] = dist
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trial_params: %w", err)
	}

	if rows, err = br.Query(); err != nil {
		return nil, fmt.Errorf("read trial_values: %w", err)
	}
	for rows.Next() {
		var (
			id    int32
			value *float64
			kind  string
		)
		if err := rows.Scan(&id, &value, &kind); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read trial_values: %w", err)
		}
		if i, ok := index[id]; ok {
			v, err := fromRepr(value, kind)
			if err != nil {
				rows.Close()
				return nil, permanent(fmt.Errorf("trial %d value: %w", out[i].trial.Number, err))
			}
			out[i].trial.Value = v
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trial_values: %w", err)
	}

	if rows, err = br.Query(); err != nil {
		return nil, fmt.Errorf("read trial_intermediate_values: %w", err)
	}
	for rows.Next() {
		var (
			id    int32
			step  int32
			value *float64
			kind  string
		)
		if err := rows.Scan(&id, &step, &value, &kind); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read trial_intermediate_values: %w", err)
		}
		if i, ok := index[id]; ok {
			v, err := fromRepr(value, kind)
			if err != nil {
				rows.Close()
				return nil, permanent(fmt.Errorf("trial %d step %d: %w", out[i].trial.Number, step, err))
			}
			out[i].trial.Intermediate[int(step)] = v
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trial_intermediate_values: %w", err)
	}

	if rows, err = br.Query(); err != nil {
		return nil, fmt.Errorf("read trial_system_attributes: %w", err)
	}
	for rows.Next() {
		var (
			id        int32
			key       *string
			valueJSON *string
		)
		if err := rows.Scan(&id, &key, &valueJSON); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read trial_system_attributes: %w", err)
		}
		i, ok := index[id]
		if !ok || key == nil || valueJSON == nil {
			continue
		}
		if err := decodeSystemAttr(&out[i].trial, *key, *valueJSON); err != nil {
			rows.Close()
			return nil, permanent(fmt.Errorf("trial %d system attribute %q: %w", out[i].trial.Number, *key, err))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trial_system_attributes: %w", err)
	}
	return out, nil
}

// decodeSystemAttr puts one system attribute where FrozenTrial keeps it: numbers in
// SystemAttrs, fail_reason in FailReason, fixed_params in FixedParams; other values (Optuna's
// retry_history list, the token) are not part of a FrozenTrial.
func decodeSystemAttr(t *hpo.FrozenTrial, key, valueJSON string) error {
	switch key {
	case attrFailReason:
		var s string
		if err := json.Unmarshal([]byte(valueJSON), &s); err == nil {
			t.FailReason = s
		}
		return nil
	case attrFixedParams:
		var fixed map[string]any
		if err := json.Unmarshal([]byte(valueJSON), &fixed); err != nil {
			return fmt.Errorf("fixed_params %s: %w", valueJSON, err)
		}
		t.FixedParams = fixed
		return nil
	}
	if v, ok := parseJSONNumber(valueJSON); ok {
		t.SystemAttrs[key] = v
	}
	return nil
}

// retryHistory reads Optuna's retry_history (a JSON list of trial numbers).
func retryHistory(valueJSON string) ([]int, error) {
	var h []int
	if err := json.Unmarshal([]byte(valueJSON), &h); err != nil {
		return nil, fmt.Errorf("retry_history %s: %w", valueJSON, err)
	}
	return h, nil
}

func intListJSON(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// byNumber sorts trials by number.
func byNumber(ts []hpo.FrozenTrial) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Number < ts[j].Number })
}

// pyFloat spells a float64 as Python's repr (so json.dumps) does: "1.0", "0.001", "1e-05",
// "1e+16", and NaN, Infinity, -Infinity as Python's json module writes them (Optuna reads them
// back), so that the attributes written here look like those Optuna writes.
func pyFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(v); a >= 1e-4 && a < 1e16 {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	return strconv.FormatFloat(v, 'e', -1, 64)
}

// parseJSONNumber reads a value_json that holds one number (Python's NaN and infinities
// included); ok is false for any other JSON value.
func parseJSONNumber(valueJSON string) (v float64, ok bool) {
	s := strings.TrimSpace(valueJSON)
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	case "", "true", "false", "null":
		return 0, false
	}
	if strings.ContainsAny(s[:1], `"[{`) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// sameChoices reports whether a categorical distribution_json, as Optuna wrote it with typed
// choices, has the labels of d.
func sameChoices(distributionJSON string, d hpo.Distribution) bool {
	if d.Kind != hpo.CategoricalKind {
		return false
	}
	o, err := journal.ParseOptunaDistribution(distributionJSON)
	return err == nil && o.Equal(d)
}
