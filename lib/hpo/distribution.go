package hpo

import (
	"fmt"
	"math"
)

// Kind says which family a Distribution belongs to.
type Kind string

// The three families of parameters, named as Optuna's distributions.
const (
	FloatKind       Kind = "float"
	IntKind         Kind = "int"
	CategoricalKind Kind = "categorical"
)

// Distribution is the range a parameter was drawn from. Samplers and storages work on its
// internal representation, a float64: the value itself for float and int parameters, the index of
// the choice for categorical ones. That keeps every sampler and storage free of reflection.
type Distribution struct {
	Kind Kind `json:"kind"`
	// Low and High are inclusive bounds of float and int parameters.
	Low  float64 `json:"low,omitempty"`
	High float64 `json:"high,omitempty"`
	// Step is the grid of a stepped float (0: continuous) or of an int (default 1).
	Step float64 `json:"step,omitempty"`
	// Log samples in log space; Low must then be > 0 and Step must be 0 (or 1 for ints).
	Log bool `json:"log,omitempty"`
	// Choices are the labels of a categorical parameter (fmt.Sprint of each value).
	Choices []string `json:"choices,omitempty"`
}

// FloatDistribution returns a float range; step 0 means continuous.
func FloatDistribution(low, high float64, log bool, step float64) Distribution {
	return Distribution{Kind: FloatKind, Low: low, High: high, Log: log, Step: step}
}

// IntDistribution returns an integer range; step <= 0 means 1.
func IntDistribution(low, high int, log bool, step int) Distribution {
	if step <= 0 {
		step = 1
	}
	return Distribution{Kind: IntKind, Low: float64(low), High: float64(high), Log: log, Step: float64(step)}
}

// CategoricalDistribution returns a choice among labels.
func CategoricalDistribution(choices ...string) Distribution {
	return Distribution{Kind: CategoricalKind, Choices: append([]string(nil), choices...)}
}

// Validate reports a range that no sampler could draw from, in Optuna's terms.
func (d Distribution) Validate() error {
	switch d.Kind {
	case FloatKind, IntKind:
		if math.IsNaN(d.Low) || math.IsNaN(d.High) || math.IsInf(d.Low, 0) || math.IsInf(d.High, 0) {
			return fmt.Errorf("bounds must be finite, got [%v, %v]", d.Low, d.High)
		}
		if d.Low > d.High {
			return fmt.Errorf("low %v is above high %v", d.Low, d.High)
		}
		if d.Step < 0 {
			return fmt.Errorf("step %v is negative", d.Step)
		}
		if d.Log {
			if d.Low <= 0 {
				return fmt.Errorf("log scale needs low > 0, got %v", d.Low)
			}
			if d.Kind == FloatKind && d.Step != 0 {
				return fmt.Errorf("step and log cannot be used together")
			}
			if d.Kind == IntKind && d.Step != 1 {
				return fmt.Errorf("log int parameters need step 1, got %v", d.Step)
			}
		}
		if d.Kind == IntKind {
			if d.Low != math.Trunc(d.Low) || d.High != math.Trunc(d.High) || d.Step != math.Trunc(d.Step) || d.Step < 1 {
				return fmt.Errorf("int bounds and step must be integers, got [%v, %v] step %v", d.Low, d.High, d.Step)
			}
		}
	case CategoricalKind:
		if len(d.Choices) == 0 {
			return fmt.Errorf("categorical parameter needs at least one choice")
		}
	default:
		return fmt.Errorf("unknown distribution kind %q", d.Kind)
	}
	return nil
}

// Single reports whether the distribution has only one possible value; samplers skip those.
func (d Distribution) Single() bool {
	switch d.Kind {
	case CategoricalKind:
		return len(d.Choices) == 1
	case IntKind:
		return d.Low == d.High || d.Low+d.Step > d.High
	default:
		if d.Step != 0 {
			return d.Low == d.High || d.Low+d.Step > d.High
		}
		return d.Low == d.High
	}
}

// Equal compares two distributions field by field.
func (d Distribution) Equal(o Distribution) bool {
	if d.Kind != o.Kind || d.Low != o.Low || d.High != o.High || d.Step != o.Step || d.Log != o.Log ||
		len(d.Choices) != len(o.Choices) {
		return false
	}
	for i := range d.Choices {
		if d.Choices[i] != o.Choices[i] {
			return false
		}
	}
	return true
}

// Contains reports whether an internal value lies in the distribution.
func (d Distribution) Contains(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	switch d.Kind {
	case CategoricalKind:
		return v == math.Trunc(v) && v >= 0 && int(v) < len(d.Choices)
	case IntKind:
		if v != math.Trunc(v) || v < d.Low || v > d.High {
			return false
		}
		return math.Mod(v-d.Low, d.Step) == 0
	default:
		if v < d.Low || v > d.High {
			return false
		}
		if d.Step != 0 {
			k := math.Round((v - d.Low) / d.Step)
			return math.Abs(d.Low+k*d.Step-v) <= 1e-8*math.Max(1, math.Abs(v))
		}
		return true
	}
}

// EffectiveHigh is the largest value on the step grid, as Optuna adjusts a high that is not
// low + k*step.
func (d Distribution) EffectiveHigh() float64 {
	if d.Step == 0 || d.Kind == CategoricalKind {
		return d.High
	}
	return d.Low + math.Floor((d.High-d.Low)/d.Step+1e-9)*d.Step
}

// External converts an internal value to what the objective sees: float64, int or the label.
func (d Distribution) External(v float64) any {
	switch d.Kind {
	case CategoricalKind:
		i := int(v)
		if i < 0 || i >= len(d.Choices) {
			return nil
		}
		return d.Choices[i]
	case IntKind:
		return int(v)
	default:
		return v
	}
}

// Internal converts an external value (float64, int, any integer type, or a label) to the
// internal float64, for enqueued trials and JSON round trips.
func (d Distribution) Internal(x any) (float64, error) {
	if d.Kind == CategoricalKind {
		label := fmt.Sprint(x)
		for i, c := range d.Choices {
			if c == label {
				return float64(i), nil
			}
		}
		return 0, fmt.Errorf("value %q is not among the choices %v", label, d.Choices)
	}
	var v float64
	switch t := x.(type) {
	case float64:
		v = t
	case float32:
		v = float64(t)
	case int:
		v = float64(t)
	case int64:
		v = float64(t)
	case int32:
		v = float64(t)
	default:
		return 0, fmt.Errorf("value %v (%T) is not a number", x, x)
	}
	if !d.Contains(v) {
		return 0, fmt.Errorf("value %v is outside %s", v, d)
	}
	return v, nil
}

// String describes the distribution in one short phrase for error messages.
func (d Distribution) String() string {
	switch d.Kind {
	case CategoricalKind:
		return fmt.Sprintf("categorical%v", d.Choices)
	default:
		s := fmt.Sprintf("%s[%v, %v]", d.Kind, d.Low, d.High)
		if d.Log {
			s += " log"
		}
		if d.Step != 0 && !(d.Kind == IntKind && d.Step == 1) {
			s += fmt.Sprintf(" step %v", d.Step)
		}
		return s
	}
}
