package homework

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/nn"
)

// regressionGoReason is why the regression task runs on the pure-Go backend
// when no backend is named. Measured on 2 cores: the 50-trial regression
// study, summed over 8 seeds, took 110 s on pure Go and 133 s on XLA CPU
// (Optuna + PyTorch 175-197 s); a LeNet5 epoch takes 9.6 s on XLA and 38.8 s on pure Go,
// so the classification keeps lib/backend's choice (XLA when a plugin is
// found).
const regressionGoReason = "the default for the regression task (faster than XLA for small MLPs, docs/PERFORMANCE.md)"

// ChooseBackend is the backend a task runs on: explicit (the configuration's
// backend field, or a --backend flag) when given, else $GOMLX_BACKEND when
// set, else the pure-Go backend for the regression task and lib/backend's
// default (backend.New, backend.DefaultOrder) for the
// classification. The choice's Reason says which rule chose it.
func ChooseBackend(task, explicit string) (*backend.Choice, error) {
	if task != TaskRegression || explicit != "" || os.Getenv(backend.EnvVar) != "" {
		return backend.New(explicit)
	}
	c, err := backend.New("go")
	if err != nil {
		return nil, err
	}
	// backend.New("go") says "given by --backend": say instead which rule
	// chose it, and keep its note about the options' origin.
	c.Reason = regressionGoReason
	if os.Getenv(backend.GoOptionsEnvVar) != "" {
		c.Reason += "; options from $" + backend.GoOptionsEnvVar
	}
	return c, nil
}

// Padding settings (Config.Padding.Mode).
const (
	// PaddingAuto is nn.DefaultPadding of the backend: shape buckets on
	// XLA, exact shapes on the pure-Go backend.
	PaddingAuto = "auto"
	// PaddingNone compiles every shape as it is (nn.NoPadding).
	PaddingNone = "none"
	// PaddingBuckets is the explicit buckets of Padding.Buckets, written
	// {"batch_bits": N, "width_bits": M} in JSON.
	PaddingBuckets = "buckets"
)

// Padding is the padding field of the configuration: which shape buckets the
// compiled graphs of every model of the study and of the cross-validation
// are padded to (nn.Padding). In JSON it is "auto" (the default, also when
// absent: nn.DefaultPadding of the backend), "none", or an object
// {"batch_bits": N, "width_bits": M} (0 to 30 each; nn.Padding says what a
// bucket is).
type Padding struct {
	// Mode is PaddingAuto (or empty), PaddingNone or PaddingBuckets.
	Mode string
	// Buckets are the buckets of PaddingBuckets.
	Buckets nn.Padding
}

// Resolve is the padding a task's models get on the chosen backend: for
// "auto", nn.DefaultPadding's choice for the task's network.
func (p Padding) Resolve(choice *backend.Choice, task string) nn.Padding {
	switch p.Mode {
	case PaddingNone:
		return nn.NoPadding
	case PaddingBuckets:
		return p.Buckets
	}
	return nn.DefaultPadding(choice.Backend, taskKind(task))
}

// taskKind is the kind of network a task trains (nn.Spec.Kind).
func taskKind(task string) string {
	if task == TaskClassification {
		return nn.KindLeNet5
	}
	return nn.KindMLP
}

// String is the setting as the configuration writes it.
func (p Padding) String() string {
	switch p.Mode {
	case "", PaddingAuto:
		return PaddingAuto
	case PaddingBuckets:
		return fmt.Sprintf("batch_bits %d, width_bits %d", p.Buckets.BatchBits, p.Buckets.WidthBits)
	}
	return p.Mode
}

// paddingUsage is what the padding field accepts.
const paddingUsage = `want "auto" (the backend's default), "none" or {"batch_bits": N, "width_bits": M}`

// validate refuses an unknown mode or buckets out of range, naming the field.
func (p Padding) validate() error {
	switch p.Mode {
	case "", PaddingAuto, PaddingNone:
		return nil
	case PaddingBuckets:
		if err := p.Buckets.Validate(); err != nil {
			return fieldErr("padding", "%s", strings.TrimPrefix(err.Error(), "padding: "))
		}
		return nil
	}
	return fieldErr("padding", "unknown setting %q: %s", p.Mode, paddingUsage)
}

// MarshalJSON writes "auto", "none" or the buckets' object.
func (p Padding) MarshalJSON() ([]byte, error) {
	if p.Mode == PaddingBuckets {
		return json.Marshal(p.Buckets)
	}
	return json.Marshal(p.String())
}

// UnmarshalJSON reads "auto", "none", null (auto) or
// {"batch_bits": N, "width_bits": M}, refusing anything else.
func (p *Padding) UnmarshalJSON(raw []byte) error {
	raw = bytes.TrimSpace(raw)
	switch {
	case bytes.Equal(raw, []byte("null")):
		*p = Padding{}
		return nil
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("padding: %w", err)
		}
		if s != PaddingAuto && s != PaddingNone {
			return fmt.Errorf("padding: unknown setting %q: %s", s, paddingUsage)
		}
		*p = Padding{Mode: s}
		return nil
	case len(raw) > 0 && raw[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var b nn.Padding
		if err := dec.Decode(&b); err != nil {
			return fmt.Errorf("padding: %v: %s", err, paddingUsage)
		}
		*p = Padding{Mode: PaddingBuckets, Buckets: b}
		return nil
	}
	return fmt.Errorf("padding: %s: %s", raw, paddingUsage)
}

// PaddingRecord is how summary.json records the padding: the setting and
// the buckets it gave on the run's backend.
type PaddingRecord struct {
	// Setting is the configuration's: "auto", "none" or "buckets".
	Setting string `json:"setting"`
	nn.Padding
}

// record is the padding as summary.json records it on the chosen backend.
func (p Padding) record(choice *backend.Choice, task string) PaddingRecord {
	setting := p.Mode
	if setting == "" {
		setting = PaddingAuto
	}
	return PaddingRecord{Setting: setting, Padding: p.Resolve(choice, task)}
}
