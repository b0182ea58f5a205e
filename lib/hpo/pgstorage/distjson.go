package pgstorage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/dlworkbench/hw1/lib/hpo"
)

// Optuna's JSON of a distribution (optuna.distributions.distribution_to_json and
// json_to_distribution), as trial_params.distribution_json keeps it.
//
// Categorical choices: Optuna keeps typed choices (strings, numbers, booleans, null), hpo keeps
// labels (fmt.Sprint of each choice). Reading turns a choice into the label SuggestChoice gives
// the same Go value (16 -> "16", 0.5 -> "0.5", 1.0 -> "1", true -> "true", null -> "<nil>");
// writing keeps labels as strings, except that SetParam writes back the JSON the study already
// holds for the parameter when its labels are the same (sameChoices), so Optuna's types stay.
//
// TODO: lib/hpo/journal_optuna.go (in progress, not committed yet) exports the same codec as
// hpo.OptunaDistributionJSON and hpo.ParseOptunaDistribution; once it is in, use those.

// distributionJSON writes d as distribution_to_json does, key order and number spelling
// included.
func distributionJSON(d hpo.Distribution) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("distribution %s: %w", d, err)
	}
	var b strings.Builder
	switch d.Kind {
	case hpo.FloatKind:
		step := "null"
		if d.Step != 0 {
			step = pyFloat(d.Step)
		}
		fmt.Fprintf(&b, `{"name": "FloatDistribution", "attributes": {"step": %s, "low": %s, "high": %s, "log": %t}}`,
			step, pyFloat(d.Low), pyFloat(d.High), d.Log)
	case hpo.IntKind:
		fmt.Fprintf(&b, `{"name": "IntDistribution", "attributes": {"log": %t, "step": %d, "low": %d, "high": %d}}`,
			d.Log, int64(d.Step), int64(d.Low), int64(d.High))
	case hpo.CategoricalKind:
		b.WriteString(`{"name": "CategoricalDistribution", "attributes": {"choices": [`)
		for i, c := range d.Choices {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(jsonString(c))
		}
		b.WriteString("]}}")
	}
	return b.String(), nil
}

// parseDistribution reads a distribution_json written by Optuna (3.0 and later, the classes
// deprecated since, and the abbreviated {"type": ...} form) or by distributionJSON.
func parseDistribution(s string) (hpo.Distribution, error) {
	var top struct {
		Name  string                     `json:"name"`
		Attrs map[string]json.RawMessage `json:"attributes"`
		Type  string                     `json:"type"`
	}
	if err := json.Unmarshal([]byte(s), &top); err != nil {
		return hpo.Distribution{}, fmt.Errorf("distribution %s: %w", s, err)
	}
	attrs, name := top.Attrs, top.Name
	if name == "" {
		// The abbreviated form keeps its fields at the top level.
		if err := json.Unmarshal([]byte(s), &attrs); err != nil {
			return hpo.Distribution{}, fmt.Errorf("distribution %s: %w", s, err)
		}
		name = map[string]string{"float": "FloatDistribution", "int": "IntDistribution", "categorical": "CategoricalDistribution"}[top.Type]
	}
	var errs []error
	num := func(key string, def float64) float64 {
		raw, ok := attrs[key]
		if !ok || string(raw) == "null" {
			return def
		}
		v, ok := parseJSONNumber(string(raw))
		if !ok {
			errs = append(errs, fmt.Errorf("%s is %s, not a number", key, raw))
		}
		return v
	}
	flag := func(key string) bool {
		var v bool
		if raw, ok := attrs[key]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
			}
		}
		return v
	}
	var d hpo.Distribution
	switch name {
	case "FloatDistribution", "UniformDistribution", "LogUniformDistribution", "DiscreteUniformDistribution":
		stepKey := "step"
		if name == "DiscreteUniformDistribution" {
			stepKey = "q"
		}
		d = hpo.FloatDistribution(num("low", 0), num("high", 0), flag("log") || name == "LogUniformDistribution", num(stepKey, 0))
	case "IntDistribution", "IntUniformDistribution", "IntLogUniformDistribution":
		d = hpo.Distribution{Kind: hpo.IntKind, Low: num("low", 0), High: num("high", 0), Step: num("step", 1),
			Log: flag("log") || name == "IntLogUniformDistribution"}
	case "CategoricalDistribution":
		labels, err := choiceLabels(attrs["choices"])
		if err != nil {
			errs = append(errs, err)
		}
		d = hpo.CategoricalDistribution(labels...)
	default:
		return hpo.Distribution{}, fmt.Errorf("distribution %s: unknown class %q", s, name)
	}
	if len(errs) > 0 {
		return hpo.Distribution{}, fmt.Errorf("distribution %s: %w", s, errs[0])
	}
	if err := d.Validate(); err != nil {
		return hpo.Distribution{}, fmt.Errorf("distribution %s: %w", s, err)
	}
	return d, nil
}

// choiceLabels turns Optuna's typed choices into hpo's labels.
func choiceLabels(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("choices: %w", err)
	}
	labels := make([]string, len(items))
	for i, it := range items {
		it = bytes.TrimSpace(it)
		s := string(it)
		switch {
		case strings.HasPrefix(s, `"`):
			if err := json.Unmarshal(it, &labels[i]); err != nil {
				return nil, fmt.Errorf("choice %d: %w", i, err)
			}
		case s == "null":
			labels[i] = fmt.Sprint(nil)
		case s == "true" || s == "false":
			labels[i] = s
		case !strings.ContainsAny(s, ".eEIN"):
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("choice %d is %s: %w", i, s, err)
			}
			labels[i] = strconv.FormatInt(n, 10)
		default:
			f, ok := parseJSONNumber(s)
			if !ok {
				return nil, fmt.Errorf("choice %d is %s, not a number, string, boolean or null", i, s)
			}
			labels[i] = fmt.Sprint(f)
		}
	}
	return labels, nil
}
