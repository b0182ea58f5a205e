package homework

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/dlworkbench/hw1/lib/nn"
)

// Task names.
const (
	TaskRegression     = "regression"
	TaskClassification = "classification"
)

// IntRange is a closed integer range searched by the study. Log samples it
// in log space. When Low == High the value is fixed.
type IntRange struct {
	Low  int  `json:"low"`
	High int  `json:"high"`
	Log  bool `json:"log,omitempty"`
}

// FloatRange is a closed float range searched by the study.
type FloatRange struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
	Log  bool    `json:"log,omitempty"`
}

// Space is the search space of a study: the seed's Listing 1 (regression) and
// Listing 2 (classification). Ranges are searched; Activation and Loss are
// fixed for a study, as in the seed.
type Space struct {
	// NLayers and NUnits shape the MLP (regression only): n_layers hidden
	// layers, each with its own number of units.
	NLayers IntRange `json:"n_layers,omitempty"`
	NUnits  IntRange `json:"n_units,omitempty"`
	// Dropout is searched per hidden layer for the MLP and per dropout layer
	// (two) for LeNet5. A zero range means no dropout.
	Dropout      FloatRange `json:"dropout"`
	BatchSize    IntRange   `json:"batch_size"`
	Epochs       IntRange   `json:"epochs"`
	LearningRate FloatRange `json:"learning_rate"`
	WeightDecay  FloatRange `json:"weight_decay"`
	// Momentum is searched only for the optimizers that use it (SGD).
	Momentum   FloatRange `json:"momentum"`
	Optimizers []string   `json:"optimizers"`
	Activation string     `json:"activation"`
	Loss       string     `json:"loss"`
}

// Config is everything one run of a task needs. Every field can be set from a
// preset, a JSON file and flags, in that order.
type Config struct {
	Task   string `json:"task"`
	Preset string `json:"preset"`
	// Study names the study; results go to <Out>/<Study>_results/ and a rerun
	// with the same name resumes it.
	Study string `json:"study"`
	// Storage is where the study's trials are kept (storage.go): empty for
	// the results folder's journal (study.journal); the path of a journal
	// file elsewhere; or a PostgreSQL URL (postgresql://user:pass@host/db),
	// where workers on several machines, and Optuna, share the study named
	// Study. config.json records it without the password.
	Storage string `json:"storage,omitempty"`
	// HeartbeatSeconds is how often a running trial in a database records
	// its heartbeat (0: every 60 s); another worker fails the trial, and
	// runs it again, once its heartbeat is twice as old (a killed worker's).
	HeartbeatSeconds float64 `json:"heartbeat_seconds,omitempty"`
	Out              string  `json:"out"`
	Seed             int64   `json:"seed"`
	// Trials is the number of complete or pruned trials the study reaches,
	// those of earlier runs and of other processes on the study included; a
	// trial that failed (killed, interrupted, an error) takes no place, and
	// a resume runs it again. TimeoutSeconds, when > 0, stops the study
	// earlier, the running trial at its next batch.
	Trials         int     `json:"trials"`
	TimeoutSeconds float64 `json:"timeout_seconds,omitempty"`
	Space          Space   `json:"space"`
	// Pruner is Optuna's MedianPruner configuration.
	PrunerStartupTrials int `json:"pruner_startup_trials"`
	PrunerWarmupSteps   int `json:"pruner_warmup_steps"`
	// StudyTrain and StudyVal are the sizes of the study's training and
	// validation subsets (classification: 10k and 5k stratified). For the
	// regression they are unused: the study uses an 80/20 split.
	StudyTrain int `json:"study_train,omitempty"`
	StudyVal   int `json:"study_val,omitempty"`
	// Folds is k of the k-fold cross-validation after the study.
	Folds int `json:"folds"`
	// CVEpochs, when > 0, replaces the best trial's number of epochs in the
	// cross-validation (a budget cap for the quick and smoke presets).
	CVEpochs int `json:"cv_epochs,omitempty"`
	// CVTrain, when > 0, limits the images used by the classification
	// cross-validation (a budget cap; 0 means all 60k).
	CVTrain int `json:"cv_train,omitempty"`
	// Backend names the backend (lib/backend: go, xla, xla:cpu, xla:cuda,
	// xla:/abs/plugin.so). Empty: $GOMLX_BACKEND when set, else the task's
	// default (ChooseBackend): the pure-Go backend for the regression, which
	// runs its small MLPs faster than XLA (a 50-trial study over 8 seeds:
	// 110 s on pure Go, 133 s on XLA CPU), and lib/backend's choice for the
	// classification, XLA when a plugin is found (a LeNet5 epoch: 9.6 s on
	// XLA, 38.8 s on pure Go).
	Backend string `json:"backend,omitempty"`
	// Padding is the shape buckets of the compiled graphs of every model of
	// the study and the cross-validation: "auto" (the default, also when
	// absent: nn.DefaultPadding of the backend, buckets on XLA and exact
	// shapes on pure Go), "none", or {"batch_bits": N, "width_bits": M}
	// (nn.Padding). summary.json records the setting and the buckets used.
	Padding Padding `json:"padding"`
	DataDir string  `json:"data_dir,omitempty"`
	// EnqueueSeedBest makes the first trial of a new study the seed's best
	// hyperparameters (TABLE II or IV, clipped to the space), as Optuna's
	// enqueue_trial: a short study then starts from a known good point.
	EnqueueSeedBest bool `json:"enqueue_seed_best,omitempty"`
}

// Known names, in one place.
var (
	Optimizers  = []string{nn.OptimizerAdam, nn.OptimizerSGD, nn.OptimizerRMSprop}
	Activations = []string{nn.ActivationReLU, nn.ActivationTanh, nn.ActivationSigmoid, nn.ActivationLeakyReLU, nn.ActivationELU}
	Losses      = map[string]string{TaskRegression: "mse", TaskClassification: "cross_entropy"}
)

// Presets returns the names of the presets.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns the configuration of a task under a preset: "smoke" (seconds
// to a couple of minutes, for tests), "quick" (the default: both tasks in
// about 20 minutes on 2 cores) or "seed" (the seed's exact budgets).
func Preset(task, name string) (Config, error) {
	if name == "" {
		name = "quick"
	}
	byTask, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("preset: unknown preset %q (want one of %s)", name, strings.Join(Presets(), ", "))
	}
	cfg, ok := byTask[task]
	if !ok {
		return Config{}, fmt.Errorf("task: unknown task %q (want %s or %s)", task, TaskRegression, TaskClassification)
	}
	cfg.Task, cfg.Preset = task, name
	cfg.Space.Optimizers = append([]string(nil), cfg.Space.Optimizers...)
	return cfg, nil
}

// seedRegressionSpace is the seed's Listing 1.
var seedRegressionSpace = Space{
	NLayers:      IntRange{Low: 1, High: 3},
	NUnits:       IntRange{Low: 128, High: 256},
	BatchSize:    IntRange{Low: 4, High: 50},
	Epochs:       IntRange{Low: 100, High: 1000},
	LearningRate: FloatRange{Low: 1e-4, High: 1e-2, Log: true},
	WeightDecay:  FloatRange{Low: 1e-7, High: 0.1, Log: true},
	Momentum:     FloatRange{Low: 0, High: 0.9},
	Optimizers:   Optimizers,
	Activation:   "relu",
	Loss:         "mse",
}

// seedClassificationSpace is the seed's Listing 2.
var seedClassificationSpace = Space{
	Dropout:      FloatRange{Low: 0.1, High: 0.5},
	BatchSize:    IntRange{Low: 64, High: 256},
	Epochs:       IntRange{Low: 10, High: 100},
	LearningRate: FloatRange{Low: 1e-4, High: 1e-2, Log: true},
	WeightDecay:  FloatRange{Low: 1e-4, High: 1e-2, Log: true},
	Momentum:     FloatRange{Low: 0, High: 0.9},
	Optimizers:   Optimizers,
	Activation:   "relu",
	Loss:         "cross_entropy",
}

func with(s Space, edit func(*Space)) Space {
	s.Optimizers = append([]string(nil), s.Optimizers...)
	edit(&s)
	return s
}

var presets = map[string]map[string]Config{
	"seed": {
		TaskRegression: {Study: "regression", Out: "out", Seed: 42, Trials: 500, Space: seedRegressionSpace,
			PrunerStartupTrials: 5, Folds: 5},
		TaskClassification: {Study: "classification", Out: "out", Seed: 42, Trials: 300, Space: seedClassificationSpace,
			PrunerStartupTrials: 5, StudyTrain: 10000, StudyVal: 5000, Folds: 10},
	},
	"quick": {
		TaskRegression: {Study: "regression", Out: "out", Seed: 42, Trials: 40,
			Space:               with(seedRegressionSpace, func(s *Space) { s.Epochs = IntRange{Low: 100, High: 300} }),
			PrunerStartupTrials: 5, PrunerWarmupSteps: 20, Folds: 5, EnqueueSeedBest: true},
		TaskClassification: {Study: "classification", Out: "out", Seed: 42, Trials: 8,
			Space:               with(seedClassificationSpace, func(s *Space) { s.Epochs = IntRange{Low: 1, High: 3} }),
			PrunerStartupTrials: 3, StudyTrain: 10000, StudyVal: 5000, Folds: 10, CVEpochs: 4, EnqueueSeedBest: true},
	},
	"smoke": {
		TaskRegression: {Study: "regression_smoke", Out: "out", Seed: 42, Trials: 4,
			Space: with(seedRegressionSpace, func(s *Space) {
				s.Epochs = IntRange{Low: 5, High: 10}
				s.NUnits = IntRange{Low: 8, High: 32}
			}),
			PrunerStartupTrials: 2, Folds: 2},
		TaskClassification: {Study: "classification_smoke", Out: "out", Seed: 42, Trials: 2,
			Space:               with(seedClassificationSpace, func(s *Space) { s.Epochs = IntRange{Low: 1, High: 1} }),
			PrunerStartupTrials: 2, StudyTrain: 1000, StudyVal: 500, Folds: 2, CVEpochs: 1, CVTrain: 2000},
	},
}

// LoadOverrides applies a JSON file of fields over cfg: only the fields present
// in the file change. The file holds one JSON object; anything after it is an
// error naming the line.
func LoadOverrides(cfg *Config, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return fmt.Errorf("config file %s line %d: %w", path, lineAt(raw, syn.Offset), err)
		case errors.As(err, &typ):
			return fmt.Errorf("config file %s line %d: field %s: %w", path, lineAt(raw, typ.Offset), typ.Field, err)
		}
		return fmt.Errorf("config file %s: %w", path, err)
	}
	end := dec.InputOffset()
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		rest := bytes.TrimLeft(raw[end:], " \t\r\n")
		line := lineAt(raw, int64(len(raw)-len(rest)))
		return fmt.Errorf("config file %s line %d: a second JSON value after the configuration object (a config file holds one object)", path, line)
	}
	return nil
}

// lineAt is the 1-based line of a byte offset.
func lineAt(raw []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(raw)))
	return 1 + bytes.Count(raw[:offset], []byte{'\n'})
}

// FieldError is a configuration that cannot run, about one field named as in
// config.json ("timeout_seconds", "space.n_units"), so that a caller can say
// where the value came from (a flag, a file).
type FieldError struct {
	// Field is the field's name in config.json.
	Field string
	// Msg says what is wrong with its value.
	Msg string
}

// Error reads "FIELD: what is wrong".
func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// maxTimeoutSeconds bounds timeout_seconds (a year): beyond it the duration
// would overflow, and 0 already means no limit.
const maxTimeoutSeconds = 365 * 24 * 3600

// Validate refuses a configuration that cannot run, before any work starts,
// with one message naming the field (a *FieldError).
func (c *Config) Validate() error {
	if c.Task != TaskRegression && c.Task != TaskClassification {
		return fieldErr("task", "unknown task %q (want %s or %s)", c.Task, TaskRegression, TaskClassification)
	}
	if _, ok := presets[c.Preset]; !ok {
		return fieldErr("preset", "unknown preset %q (want one of %s)", c.Preset, strings.Join(Presets(), ", "))
	}
	if c.Study == "" || strings.ContainsAny(c.Study, `/\`) || c.Study == "." || c.Study == ".." {
		return fieldErr("study", "%q is not a usable study name (no slashes, not empty)", c.Study)
	}
	if err := checkStorage(c.Storage); err != nil {
		return err
	}
	if !(c.HeartbeatSeconds == 0 || c.HeartbeatSeconds >= minHeartbeatSeconds && c.HeartbeatSeconds <= maxHeartbeatSeconds) {
		return fieldErr("heartbeat_seconds", "%g, want 0 (the default, %gs) or %g to %g seconds", c.HeartbeatSeconds, heartbeatInterval.Seconds(), minHeartbeatSeconds, maxHeartbeatSeconds)
	}
	if c.Out == "" {
		return fieldErr("out", "empty output directory")
	}
	if c.Trials < 1 {
		return fieldErr("trials", "%d, want at least 1", c.Trials)
	}
	if !(c.TimeoutSeconds >= 0 && c.TimeoutSeconds <= maxTimeoutSeconds) {
		return fieldErr("timeout_seconds", "%g, want 0 (no limit) to %d seconds", c.TimeoutSeconds, maxTimeoutSeconds)
	}
	if c.Folds < 2 {
		return fieldErr("folds", "k=%d, want k >= 2", c.Folds)
	}
	if c.CVEpochs < 0 || c.CVEpochs > nn.MaxEpochs {
		return fieldErr("cv_epochs", "%d, want 0 (the best trial's) to %d (nn.MaxEpochs)", c.CVEpochs, nn.MaxEpochs)
	}
	if c.PrunerStartupTrials < 0 {
		return fieldErr("pruner_startup_trials", "%d is negative", c.PrunerStartupTrials)
	}
	if c.PrunerWarmupSteps < 0 {
		return fieldErr("pruner_warmup_steps", "%d is negative", c.PrunerWarmupSteps)
	}
	if err := c.Padding.validate(); err != nil {
		return err
	}
	s := &c.Space
	if c.Task == TaskRegression {
		if err := checkInt("space.n_layers", s.NLayers, 1, nn.MaxHiddenLayers, "nn.MaxHiddenLayers"); err != nil {
			return err
		}
		if err := checkInt("space.n_units", s.NUnits, 1, math.MaxInt, ""); err != nil {
			return err
		}
	} else {
		if c.StudyTrain < 1 {
			return fieldErr("study_train", "%d, want >= 1", c.StudyTrain)
		}
		if c.StudyVal < 1 {
			return fieldErr("study_val", "%d, want >= 1", c.StudyVal)
		}
		if c.CVTrain < 0 {
			return fieldErr("cv_train", "%d is negative", c.CVTrain)
		}
	}
	if err := checkInt("space.batch_size", s.BatchSize, 1, math.MaxInt, ""); err != nil {
		return err
	}
	if err := checkInt("space.epochs", s.Epochs, 1, nn.MaxEpochs, "nn.MaxEpochs"); err != nil {
		return err
	}
	if err := checkFloat("space.learning_rate", s.LearningRate, false); err != nil {
		return err
	}
	if err := checkFloat("space.weight_decay", s.WeightDecay, true); err != nil {
		return err
	}
	if err := checkFloat("space.momentum", s.Momentum, true); err != nil {
		return err
	}
	if s.Momentum.High >= 1 {
		return fieldErr("space.momentum", "high %g, want < 1", s.Momentum.High)
	}
	if err := checkFloat("space.dropout", s.Dropout, true); err != nil {
		return err
	}
	if s.Dropout.High >= 1 {
		return fieldErr("space.dropout", "high %g, want < 1", s.Dropout.High)
	}
	if len(s.Optimizers) == 0 {
		return fieldErr("space.optimizers", "empty choice list")
	}
	for i, o := range s.Optimizers {
		if !contains(Optimizers, o) {
			return fieldErr(fmt.Sprintf("space.optimizers[%d]", i), "unknown optimizer %q (want %s)", o, strings.Join(Optimizers, ", "))
		}
	}
	if !contains(Activations, s.Activation) {
		return fieldErr("space.activation", "unknown activation %q (want %s)", s.Activation, strings.Join(Activations, ", "))
	}
	if s.Loss != Losses[c.Task] {
		return fieldErr("space.loss", "%q is not the loss of the %s task (%s)", s.Loss, c.Task, Losses[c.Task])
	}
	// The largest model of the space, with one example per batch: whatever
	// the data, a model that cannot fit then is refused now.
	return c.checkModelSize(1)
}

// largestSpec is the biggest model the space can build.
func (c *Config) largestSpec() nn.Spec {
	if c.Task == TaskClassification {
		return nn.LeNet5(c.Space.Dropout.High, c.Space.Dropout.High)
	}
	hidden := make([]int, c.Space.NLayers.High)
	for i := range hidden {
		hidden[i] = c.Space.NUnits.High
	}
	return nn.MLP(hidden, nil, c.Space.Activation)
}

// checkModelSize refuses a space whose largest model could not be trained
// in memory with batches of batch examples (nn.Spec.CheckSize).
func (c *Config) checkModelSize(batch int) error {
	err := c.largestSpec().CheckSize(batch)
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), "spec: ")
	if c.Task == TaskClassification || c.largestSpec().CheckSize(1) == nil {
		return fieldErr("space.batch_size", "high %d: %s", c.Space.BatchSize.High, msg)
	}
	return fieldErr("space.n_units", "high %d in up to %d layers: %s", c.Space.NUnits.High, c.Space.NLayers.High, msg)
}

func checkInt(field string, r IntRange, low, high int, limit string) error {
	if r.Low > r.High {
		return fieldErr(field, "low %d > high %d", r.Low, r.High)
	}
	if r.Low < low {
		return fieldErr(field, "low %d, want >= %d", r.Low, low)
	}
	if r.High > high {
		return fieldErr(field, "high %d, over the maximum of %d (%s)", r.High, high, limit)
	}
	return nil
}

func checkFloat(field string, r FloatRange, zeroOK bool) error {
	for _, v := range []float64{r.Low, r.High} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fieldErr(field, "[%g, %g]: bounds must be finite numbers", r.Low, r.High)
		}
	}
	if r.Low > r.High {
		return fieldErr(field, "low %g > high %g", r.Low, r.High)
	}
	if r.Low < 0 || (!zeroOK && r.Low == 0) {
		return fieldErr(field, "low %g, want > 0", r.Low)
	}
	if r.Log && r.Low <= 0 {
		return fieldErr(field, "log range needs low > 0, got %g", r.Low)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
