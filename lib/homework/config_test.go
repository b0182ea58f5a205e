package homework

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPresetsValidate(t *testing.T) {
	for _, p := range Presets() {
		for _, task := range []string{TaskRegression, TaskClassification} {
			cfg, err := Preset(task, p)
			if err != nil {
				t.Fatalf("Preset(%s, %s): %v", task, p, err)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("preset %s/%s does not validate: %v", p, task, err)
			}
		}
	}
}

func TestSeedPresetIsTheSeedsBudget(t *testing.T) {
	r, _ := Preset(TaskRegression, "seed")
	c, _ := Preset(TaskClassification, "seed")
	if r.Trials != 500 || r.Space.Epochs != (IntRange{Low: 100, High: 1000}) || r.Folds != 5 {
		t.Errorf("seed regression: %d trials, epochs %v, k=%d; want 500, 100-1000, 5", r.Trials, r.Space.Epochs, r.Folds)
	}
	if c.Trials != 300 || c.Space.Epochs != (IntRange{Low: 10, High: 100}) || c.Folds != 10 || c.StudyTrain != 10000 || c.StudyVal != 5000 {
		t.Errorf("seed classification: %+v", c)
	}
}

func TestPresetIsACopy(t *testing.T) {
	a, _ := Preset(TaskRegression, "quick")
	a.Space.Optimizers[0] = "changed"
	b, _ := Preset(TaskRegression, "quick")
	if b.Space.Optimizers[0] == "changed" {
		t.Fatal("editing a preset's optimizers changed the preset itself")
	}
}

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"low>high", func(c *Config) { c.Space.LearningRate = FloatRange{Low: 0.1, High: 0.01} }, "space.learning_rate"},
		{"int low>high", func(c *Config) { c.Space.NUnits = IntRange{Low: 300, High: 200} }, "space.n_units"},
		{"empty choices", func(c *Config) { c.Space.Optimizers = nil }, "space.optimizers"},
		{"unknown optimizer", func(c *Config) { c.Space.Optimizers = []string{"Adam", "Lion"} }, "space.optimizers[1]"},
		{"unknown activation", func(c *Config) { c.Space.Activation = "swish" }, "space.activation"},
		{"zero epochs", func(c *Config) { c.Space.Epochs = IntRange{Low: 0, High: 10} }, "space.epochs"},
		{"k<2", func(c *Config) { c.Folds = 1 }, "folds"},
		{"unknown preset", func(c *Config) { c.Preset = "fast" }, "preset"},
		{"zero trials", func(c *Config) { c.Trials = 0 }, "trials"},
		{"log range at zero", func(c *Config) { c.Space.WeightDecay = FloatRange{Low: 0, High: 0.1, Log: true} }, "space.weight_decay"},
		{"momentum 1", func(c *Config) { c.Space.Momentum = FloatRange{Low: 0, High: 1} }, "space.momentum"},
		{"slash in study", func(c *Config) { c.Study = "a/b" }, "study"},
		{"wrong loss", func(c *Config) { c.Space.Loss = "cross_entropy" }, "space.loss"},
	}
	for _, tc := range cases {
		cfg, _ := Preset(TaskRegression, "smoke")
		tc.edit(&cfg)
		err := cfg.Validate()
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.field+":") {
			t.Errorf("%s: error %q does not start with the field %q", tc.name, err, tc.field)
		}
	}
}

func TestUnknownPresetAndTask(t *testing.T) {
	if _, err := Preset(TaskRegression, "fast"); err == nil || !strings.HasPrefix(err.Error(), "preset:") {
		t.Errorf("unknown preset: %v", err)
	}
	if _, err := Preset("segmentation", "quick"); err == nil || !strings.HasPrefix(err.Error(), "task:") {
		t.Errorf("unknown task: %v", err)
	}
}

func TestLoadOverrides(t *testing.T) {
	cfg, _ := Preset(TaskClassification, "quick")
	path := filepath.Join(t.TempDir(), "over.json")
	if err := os.WriteFile(path, []byte(`{"trials": 7, "space": {"optimizers": ["SGD"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := LoadOverrides(&cfg, path); err != nil {
		t.Fatal(err)
	}
	if cfg.Trials != 7 || len(cfg.Space.Optimizers) != 1 || cfg.Space.Optimizers[0] != "SGD" {
		t.Errorf("overrides not applied: trials %d optimizers %v", cfg.Trials, cfg.Space.Optimizers)
	}
	if cfg.Folds != 10 || cfg.Space.BatchSize.Low != 64 {
		t.Errorf("fields absent from the file changed: folds %d batch %v", cfg.Folds, cfg.Space.BatchSize)
	}
	if err := os.WriteFile(path, []byte(`{"trails": 7}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := LoadOverrides(&cfg, path); err == nil || !strings.Contains(err.Error(), "trails") {
		t.Errorf("misspelt field: %v", err)
	}
}

func TestSeedBestParamsFitTheSpace(t *testing.T) {
	for _, task := range []string{TaskRegression, TaskClassification} {
		cfg, _ := Preset(task, "quick")
		m, err := BuildOptModel(task, cfg.Space, seedBestParams(task, cfg.Space))
		if err != nil {
			t.Fatalf("%s: %v", task, err)
		}
		h := m.Hyperparameters
		if h.Epochs < cfg.Space.Epochs.Low || h.Epochs > cfg.Space.Epochs.High {
			t.Errorf("%s: epochs %d outside %v", task, h.Epochs, cfg.Space.Epochs)
		}
		if task == TaskRegression && (len(m.Spec.Hidden) != 2 || m.Spec.Hidden[0] != 216 || h.Optimizer != "RMSprop" || h.BatchSize != 10) {
			t.Errorf("regression: not TABLE II: %+v %+v", m.Spec, h)
		}
		if task == TaskClassification && (h.Optimizer != "Adam" || h.BatchSize != 64 || h.LearningRate != 0.00214) {
			t.Errorf("classification: not TABLE IV: %+v", h)
		}
	}
}
