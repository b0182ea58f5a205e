package nn

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/internal/backendtest"
	"github.com/dlworkbench/hw1/lib/backend"
)

// wave is a small regression set: y = sin(2x) + x/2 on 40 points.
func wave(n int) *Data {
	d := &Data{shape: []int{1}, outputs: 1}
	for i := range n {
		x := -3 + 6*float64(i)/float64(n-1)
		d.values = append(d.values, x)
		d.targets = append(d.targets, math.Sin(2*x)+x/2)
	}
	return d
}

func smallRegression() (Spec, Hyperparameters) {
	return MLP([]int{16, 8}, []float64{0.2, 0.1}, ActivationReLU),
		Hyperparameters{Epochs: 4, BatchSize: 8, LearningRate: 0.01, WeightDecay: 1e-4, Optimizer: OptimizerAdam}
}

func trainOnce(t *testing.T, be *backend.Choice, spec Spec, hp Hyperparameters, seed int64) (*Model, *History) {
	t.Helper()
	m, err := New(be.Backend, spec, seed)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Fit(m, wave(40), wave(11), hp, Options{Seed: seed, Progress: ProgressOff})
	if err != nil {
		t.Fatal(err)
	}
	return m, h
}

// TestSameSeedSameNumbers trains twice with one seed (the second time in a
// workspace handed back by the first model, as the search does) and once with
// another seed.
func TestSameSeedSameNumbers(t *testing.T) {
	spec, hp := smallRegression()
	for _, be := range backendtest.ForTests(t) {
		t.Run(be.Name, func(t *testing.T) {
			m1, h1 := trainOnce(t, be, spec, hp, 7)
			w1, err := m1.Variables()
			if err != nil {
				t.Fatal(err)
			}
			m2, h2 := trainOnce(t, be, spec, hp, 7)
			w2, err := m2.Variables()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(lossesOf(h1), lossesOf(h2)) {
				t.Errorf("same seed, different losses:\n%v\n%v", lossesOf(h1), lossesOf(h2))
			}
			for i := range w1 {
				if !slices.Equal(w1[i].Values, w2[i].Values) {
					t.Errorf("same seed, different %s", w1[i].Name)
				}
			}
			_, h3 := trainOnce(t, be, spec, hp, 8)
			if slices.Equal(lossesOf(h1), lossesOf(h3)) {
				t.Errorf("seeds 7 and 8 gave the same losses %v", lossesOf(h1))
			}
		})
	}
}

func lossesOf(h *History) []float64 {
	var out []float64
	for _, e := range h.Epochs {
		out = append(out, e.TrainLoss, e.ValLoss)
	}
	return out
}

// TestFitLearns checks that training lowers the validation loss, that the
// history has one entry per epoch, and that regression has no accuracies.
func TestFitLearns(t *testing.T) {
	spec, hp := smallRegression()
	hp.Epochs = 30
	m, h := trainOnce(t, backend.Go(), spec, hp, 1)
	if len(h.Epochs) != hp.Epochs {
		t.Fatalf("%d epochs recorded, want %d", len(h.Epochs), hp.Epochs)
	}
	first, last := h.Epochs[0], h.Last()
	if !(last.ValLoss < 0.5*first.ValLoss) {
		t.Errorf("validation loss went from %g to %g, want it halved", first.ValLoss, last.ValLoss)
	}
	if !math.IsNaN(last.TrainAccuracy) || !math.IsNaN(last.ValAccuracy) {
		t.Errorf("regression has accuracies %g, %g", last.TrainAccuracy, last.ValAccuracy)
	}
	loss, _, err := m.Evaluate(wave(11))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(loss-last.ValLoss) > 1e-6 {
		t.Errorf("Evaluate gives %g, last epoch's validation %g", loss, last.ValLoss)
	}
}

// TestCallbackStops checks that a callback wrapping ErrStop ends training
// without an error, and that another error fails Fit.
func TestCallbackStops(t *testing.T) {
	spec, hp := smallRegression()
	m, err := New(backend.Go().Backend, spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	prune := func(_ *Model, s EpochStats) error {
		if s.Epoch == 2 {
			return fmt.Errorf("pruned at %d: %w", s.Epoch, ErrStop)
		}
		return nil
	}
	h, err := Fit(m, wave(40), nil, hp, Options{Callbacks: []Callback{prune}, Progress: ProgressOff})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 2 || !h.Stopped || !strings.Contains(h.StopReason, "pruned at 2") {
		t.Errorf("history after a stop at epoch 2: %d epochs, stopped %v (%q)", len(h.Epochs), h.Stopped, h.StopReason)
	}
	boom := errors.New("boom")
	_, err = Fit(m, wave(40), nil, hp, Options{Progress: ProgressOff,
		Callbacks: []Callback{func(*Model, EpochStats) error { return boom }}})
	if !errors.Is(err, boom) {
		t.Errorf("a failing callback gave %v, want boom", err)
	}
}

// checkpointChildEnv makes the test binary load a checkpoint and print its
// predictions, to compare them across processes.
const checkpointChildEnv = "HW1_NN_CHECKPOINT_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(checkpointChildEnv); path != "" {
		os.Exit(checkpointChild(path))
	}
	os.Exit(m.Run())
}

func checkpointChild(path string) int {
	be, err := backend.New(os.Getenv("HW1_NN_CHECKPOINT_BACKEND"))
	if err == nil {
		var m *Model
		if m, err = Load(path, be.Backend); err == nil {
			var p []float64
			if p, err = m.Predict(wave(23)); err == nil {
				err = json.NewEncoder(os.Stdout).Encode(bitsOf(p))
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func bitsOf(xs []float64) []uint64 {
	out := make([]uint64, len(xs))
	for i, x := range xs {
		out[i] = math.Float64bits(x)
	}
	return out
}

// TestCheckpointAcrossProcesses saves a trained model, loads it in another
// process and compares the predictions bit for bit.
func TestCheckpointAcrossProcesses(t *testing.T) {
	spec, hp := smallRegression()
	for _, be := range backendtest.ForTests(t) {
		t.Run(be.Name, func(t *testing.T) {
			m, h := trainOnce(t, be, spec, hp, 3)
			want, err := m.Predict(wave(23))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "model.json")
			if err := m.Save(path); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), checkpointChildEnv+"="+path, "HW1_NN_CHECKPOINT_BACKEND="+be.Config)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child process: %v", err)
			}
			var got []uint64
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("child output %q: %v", out, err)
			}
			if !slices.Equal(got, bitsOf(want)) {
				t.Errorf("predictions differ across processes:\n got %v\nwant %v", got, bitsOf(want))
			}
			// In this process too, with the spec, hyperparameters and history.
			l, err := Load(path, be.Backend)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(l.Spec.Hidden, spec.Hidden) || l.Hyperparameters == nil || *l.Hyperparameters != hp {
				t.Errorf("loaded spec %+v hyperparameters %+v", l.Spec, l.Hyperparameters)
			}
			if l.History == nil || len(l.History.Epochs) != len(h.Epochs) || l.History.Last().ValLoss != h.Last().ValLoss {
				t.Errorf("loaded history %+v, want %+v", l.History, h)
			}
		})
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	bad := map[string]string{
		"notjson.json": "{",
		"format.json":  `{"format":"other/1"}`,
		"spec.json":    `{"format":"hw1-model/1","spec":{"kind":"rnn"}}`,
		"count.json":   `{"format":"hw1-model/1","spec":{"kind":"mlp","hidden":[2]},"variables":[]}`,
		"shape.json": `{"format":"hw1-model/1","spec":{"kind":"mlp","hidden":[2]},"variables":[` +
			`{"name":"hidden_0/weights","shape":[2,1],"dtype":"float32","data":"AAAAAAAAAAA="},` +
			`{"name":"hidden_0/biases","shape":[2],"dtype":"float32","data":"AAAAAAAAAAA="},` +
			`{"name":"output/weights","shape":[2,1],"dtype":"float32","data":"AAAAAAAAAAA="},` +
			`{"name":"output/biases","shape":[1],"dtype":"float32","data":"AAAAAA=="}]}`,
	}
	for name, content := range bad {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path, backend.Go().Backend); err == nil {
			t.Errorf("%s: loaded without error", name)
		} else if !strings.Contains(err.Error(), name) && name != "spec.json" {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}

func TestSpecValidate(t *testing.T) {
	good := []Spec{MLP([]int{216, 154}, nil, ""), LeNet5(0.41, 0.24), MLP(nil, nil, ActivationELU)}
	for _, s := range good {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	bad := map[string]Spec{
		"activation": MLP([]int{4}, nil, "swish"),
		"dropout":    MLP([]int{4}, []float64{1}, ""),
		"hidden":     MLP([]int{0}, nil, ""),
		"kind":       {Kind: "rnn"},
		"loss":       LeNet5(0.5, 0.5).withLoss(LossMSE),
	}
	for field, s := range bad {
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: Validate() = %v, want an error naming %s", field, err, field)
		}
	}
	var back Spec
	raw, _ := json.Marshal(LeNet5(0.41, 0.24))
	if err := json.Unmarshal(raw, &back); err != nil || back.shapeKey() != LeNet5(0.41, 0.24).shapeKey() || back.Dropout[0] != 0.41 {
		t.Errorf("JSON round trip: %s -> %+v (%v)", raw, back, err)
	}
}

func (s Spec) withLoss(loss string) Spec { s.Loss = loss; return s }

// TestLeNet5 builds the seed's LeNet5, checks its layers' shapes and feature
// maps, and trains a few steps on random images.
func TestLeNet5(t *testing.T) {
	m, err := New(backend.Go().Backend, LeNet5(0.5, 0.3), 1)
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.Weights()
	if err != nil {
		t.Fatal(err)
	}
	wantShapes := map[string][]int{"conv1": {5, 5, 1, 6}, "conv2": {5, 5, 6, 16}, "fc1": {400, 120}, "fc2": {120, 84}, "fc3": {84, 10}}
	params := 0
	for _, lw := range w {
		if !slices.Equal(lw.Shape, wantShapes[lw.Layer]) {
			t.Errorf("%s weights %v, want %v", lw.Layer, lw.Shape, wantShapes[lw.Layer])
		}
		params += len(lw.Weights) + len(lw.Biases)
	}
	if params != 61706 { // torch: sum(p.numel() for p in LeNet_5().parameters())
		t.Errorf("%d parameters, want 61706", params)
	}
	d := &Data{shape: []int{28, 28, 1}, pixels: make([]uint8, 16*784), labels: make([]int32, 16)}
	for i := range d.pixels {
		d.pixels[i] = uint8(i * 7919 % 251)
	}
	for i := range d.labels {
		d.labels[i] = int32(i % 10)
	}
	acts, err := m.Activations(d)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(acts[0].Shape, []int{16, 28, 28, 6}) || !slices.Equal(acts[1].Shape, []int{16, 10, 10, 16}) {
		t.Errorf("feature maps %v and %v, want [16 28 28 6] and [16 10 10 16]", acts[0].Shape, acts[1].Shape)
	}
	hp := Hyperparameters{Epochs: 3, BatchSize: 8, LearningRate: 0.01, Optimizer: OptimizerAdam}
	h, err := Fit(m, d, d, hp, Options{Progress: ProgressOff})
	if err != nil {
		t.Fatal(err)
	}
	if acc := h.Last().ValAccuracy; !(acc >= 0 && acc <= 1) {
		t.Errorf("validation accuracy %g", acc)
	}
	if !(h.Last().TrainLoss < h.Epochs[0].TrainLoss) {
		t.Errorf("train loss did not go down on 16 images: %v", lossesOf(h))
	}
	classes, err := m.PredictClasses(d)
	if err != nil || len(classes) != 16 {
		t.Fatalf("PredictClasses: %v, %v", classes, err)
	}
	if acc := Accuracy(classes, d.labels); math.Abs(acc-h.Last().ValAccuracy) > 1e-9 {
		t.Errorf("accuracy of PredictClasses %g, Evaluate's %g", acc, h.Last().ValAccuracy)
	}
}

func TestDataChecks(t *testing.T) {
	m, err := New(backend.Go().Backend, MLP([]int{3}, nil, ""), 1)
	if err != nil {
		t.Fatal(err)
	}
	hp := Hyperparameters{Epochs: 1, BatchSize: 4, LearningRate: 0.1, Optimizer: "sgd"}
	images := &Data{shape: []int{28, 28, 1}, pixels: make([]uint8, 784), labels: []int32{0}}
	if _, err := Fit(m, images, nil, hp, Options{}); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("images into an MLP: %v", err)
	}
	noTargets := Inputs([]float64{1, 2})
	if _, err := Fit(m, noTargets, nil, hp, Options{}); err == nil || !strings.Contains(err.Error(), "targets") {
		t.Errorf("no targets: %v", err)
	}
	hp.Optimizer = "adagrad"
	if _, err := Fit(m, wave(8), nil, hp, Options{}); err == nil || !strings.Contains(err.Error(), "adagrad") {
		t.Errorf("unknown optimizer: %v", err)
	}
	if _, err := wave(8).Subset([]int{8}); err == nil {
		t.Error("Subset accepted an index out of range")
	}
	sub, err := wave(8).Subset([]int{5, 2})
	if err != nil || sub.Len() != 2 || sub.Targets()[1] != wave(8).Targets()[2] {
		t.Errorf("Subset: %v, %v", sub, err)
	}
}

func TestMetrics(t *testing.T) {
	pred := []int32{0, 1, 2, 2, 1}
	labels := []int32{0, 1, 1, 2, 0}
	if acc := Accuracy(pred, labels); acc != 0.6 {
		t.Errorf("accuracy %g, want 0.6", acc)
	}
	cm := ConfusionMatrix(pred, labels, 3)
	want := [][]int{{1, 1, 0}, {0, 1, 1}, {0, 0, 1}}
	for i := range want {
		if !slices.Equal(cm[i], want[i]) {
			t.Errorf("confusion matrix %v, want %v", cm, want)
			break
		}
	}
	if got := ArgMaxRows([]float64{1, 3, 3, -1, -2, -3}, 3); !slices.Equal(got, []int32{1, 0}) {
		t.Errorf("ArgMaxRows = %v, want [1 0] (first on ties)", got)
	}
}

func TestHistoryJSON(t *testing.T) {
	h := History{Epochs: []EpochStats{{Epoch: 1, TrainLoss: 0.5, ValLoss: math.NaN(), TrainAccuracy: 0.75, ValAccuracy: math.NaN(), Seconds: 1.5}}}
	raw, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"val_loss":null`) {
		t.Errorf("NaN not written as null: %s", raw)
	}
	var back History
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	e := back.Epochs[0]
	if e.TrainLoss != 0.5 || e.TrainAccuracy != 0.75 || !math.IsNaN(e.ValLoss) || !math.IsNaN(e.ValAccuracy) || e.Seconds != 1.5 {
		t.Errorf("round trip: %+v", e)
	}
}

// TestProgressLines checks the progress written when asked on a
// non-terminal: one line per epoch with the label and the losses.
func TestProgressLines(t *testing.T) {
	spec, hp := smallRegression()
	hp.Epochs = 2
	m, err := New(backend.Go().Backend, spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if _, err := Fit(m, wave(40), wave(11), hp, Options{Label: "fold 3/5", Progress: ProgressAlways, ProgressOut: &out}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "fold 3/5: epoch 2/2 train loss ") || !strings.Contains(lines[1], "val loss") {
		t.Errorf("progress:\n%s", out.String())
	}
	out.Reset()
	if _, err := Fit(m, wave(40), nil, hp, Options{ProgressOut: &out}); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("automatic progress wrote to a non-terminal: %q", out.String())
	}
}

// TestSharedGraphsNewShapes trains models of one shape one after the other
// with data sizes that make new last-batch shapes: the shared train step must
// compile them for the model at hand (it once captured the first model).
func TestSharedGraphsNewShapes(t *testing.T) {
	spec := MLP([]int{18}, nil, ActivationReLU)
	hp := Hyperparameters{Epochs: 2, BatchSize: 7, LearningRate: 0.008, Optimizer: OptimizerSGD, Momentum: 0.39}
	var models []*Model
	for i, n := range []int{80, 50, 45} {
		m, err := New(backend.Go().Backend, spec, int64(i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Fit(m, wave(n), wave(10), hp, Options{Seed: int64(i), Progress: ProgressOff}); err != nil {
			t.Fatalf("model %d: %v", i, err)
		}
		models = append(models, m)
	}
	// Every model keeps its own weights although they shared a workspace.
	a, _ := models[0].Variables()
	b, _ := models[1].Variables()
	if slices.Equal(a[0].Values, b[0].Values) {
		t.Error("two models trained in one workspace have the same weights")
	}
	p0, _ := models[0].Predict(wave(5))
	if _, err := Fit(models[1], wave(30), nil, hp, Options{Progress: ProgressOff}); err != nil {
		t.Fatal(err)
	}
	if p, _ := models[0].Predict(wave(5)); !slices.Equal(p, p0) {
		t.Error("training one model changed another's predictions")
	}
}

// TestConcurrentPredict predicts with two models of one shape from several
// goroutines: each must get its own model's outputs.
func TestConcurrentPredict(t *testing.T) {
	spec := MLP([]int{8}, nil, ActivationTanh)
	var models [2]*Model
	var want [2][]float64
	for i := range models {
		m, err := New(backend.Go().Backend, spec, int64(10+i))
		if err != nil {
			t.Fatal(err)
		}
		models[i] = m
		if want[i], err = m.Predict(wave(9)); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			m := models[g%2]
			for range 20 {
				p, err := m.Predict(wave(9))
				if err == nil && !slices.Equal(p, want[g%2]) {
					err = fmt.Errorf("goroutine %d got another model's predictions", g)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
