package plot

import (
	"math"
	"strings"
	"testing"
)

func TestKernelFromHWIO(t *testing.T) {
	// [h=1, w=2, in=2, out=3]: value encodes (x, i, o) as 100x+10i+o.
	w := make([]float32, 12)
	for x := range 2 {
		for i := range 2 {
			for o := range 3 {
				w[(x*2+i)*3+o] = float32(100*x + 10*i + o)
			}
		}
	}
	k, err := KernelFromHWIO(Layer{Name: "c", Weights: w, Shape: []int{1, 2, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Shape; len(got) != 4 || got[0] != 3 || got[1] != 2 || got[2] != 1 || got[3] != 2 {
		t.Fatalf("shape %v, want [3 2 1 2]", got)
	}
	for o := range 3 {
		for i := range 2 {
			for x := range 2 {
				if got, want := k.Weights[((o*2+i)*1+0)*2+x], float32(100*x+10*i+o); got != want {
					t.Errorf("out %d in %d x %d: %v, want %v", o, i, x, got, want)
				}
			}
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, r := range [][2]float64{{0, 1}, {1, 180}, {0.883, 0.898}, {125, 256}, {-3.7, 7.2}, {0, 48000}, {0.2, 0.21}} {
		var labels []string
		for _, tk := range (niceTicks{}).Ticks(r[0], r[1]) {
			if tk.Label == "" {
				continue
			}
			if tk.Value < r[0]-1e-9 || tk.Value > r[1]+1e-9 {
				t.Errorf("%v: tick %v outside the range", r, tk.Value)
			}
			labels = append(labels, tk.Label)
		}
		if len(labels) < 3 || len(labels) > 8 {
			t.Errorf("%v: %d labels %v, want 3..8", r, len(labels), labels)
		}
		seen := map[string]bool{}
		for _, l := range labels {
			if seen[l] {
				t.Errorf("%v: label %q twice in %v (too few decimals)", r, l, labels)
			}
			seen[l] = true
			if r[1]-r[0] > 10 && strings.Contains(l, ".") {
				t.Errorf("%v: label %q has needless decimals", r, l)
			}
		}
	}
}

func TestLogTicksLabelShortAxes(t *testing.T) {
	for _, r := range [][2]float64{{0.2, 0.9}, {1e-4, 1e-2}, {1e-7, 0.1}, {0.25, 2.6}} {
		n := 0
		for _, tk := range (logTicks{}).Ticks(r[0], r[1]) {
			if tk.Label != "" {
				n++
			}
		}
		if n < 3 {
			t.Errorf("%v: only %d labelled ticks", r, n)
		}
	}
	if got := formatTick(1e-5); got != "1e-5" {
		t.Errorf("formatTick(1e-5) = %q", got)
	}
	if got := formatTick(1.5e-4); got != "0.00015" {
		t.Errorf("formatTick(1.5e-4) = %q", got)
	}
}

func TestColourMaps(t *testing.T) {
	// Blues darkens and viridis lightens monotonically: a colour scale that
	// turned back would make two values look alike.
	prevB, prevV := 2.0, -1.0
	for i := 0; i <= 20; i++ {
		x := float64(i) / 20
		b, v := luminance(cmapBlues.at(x)), luminance(cmapViridis.at(x))
		if b > prevB+1e-9 {
			t.Errorf("Blues lightens at %.2f", x)
		}
		if v < prevV-1e-9 {
			t.Errorf("viridis darkens at %.2f", x)
		}
		prevB, prevV = b, v
	}
	if c := cmapDiverging.at(0.5); luminance(c) < 0.9 {
		t.Errorf("diverging map is not white at its centre: %v", c)
	}
}

func TestActivationsName(t *testing.T) {
	for h, want := range map[float64]string{2: "activations_x_2", -1.5: "activations_x_-1.5", 1e21: "activations_x_1e21"} {
		if got := ActivationsName(h); got != want {
			t.Errorf("ActivationsName(%v) = %q, want %q", h, got, want)
		}
	}
}

func TestStudyAxes(t *testing.T) {
	s := SyntheticRegressionStudy(1).Study
	s.Params = nil // inferred from the trials
	kinds := map[string]string{}
	for _, a := range s.axes() {
		switch {
		case a.choices != nil:
			kinds[a.name] = "categorical"
		case a.log:
			kinds[a.name] = "log"
		default:
			kinds[a.name] = "linear"
		}
	}
	for name, want := range map[string]string{"lr": "log", "weight_decay": "log", "n_units_l0": "linear", "optimizer": "categorical"} {
		if kinds[name] != want {
			t.Errorf("%s inferred %q, want %q", name, kinds[name], want)
		}
	}
	if got := TopParams(map[string]float64{"a": 0.1, "b": 0.5, "c": 0.3}, 2); strings.Join(got, ",") != "b,c" {
		t.Errorf("TopParams = %v", got)
	}
	lt := (paramAxis{name: "lr", log: true}).ticker().Ticks(-4, -2)
	labels := map[string]bool{}
	for _, tk := range lt {
		labels[tk.Label] = true
		if tk.Label == "0.001" && math.Abs(tk.Value+3) > 1e-9 {
			t.Errorf("log axis puts 0.001 at %v, want -3", tk.Value)
		}
	}
	if !labels["0.001"] || !labels["0.0001"] {
		t.Errorf("log axis over 1e-4..1e-2 labels %v", labels)
	}
}

func TestIntTicksLabelOnlyWholeNumbers(t *testing.T) {
	for _, r := range [][2]float64{{1, 2}, {0.5, 1.5}, {1, 3}, {-0.5, 0.5}, {0, 17}, {40, 80}, {1, 1000}} {
		var labels []string
		for _, tk := range (intTicks{}).Ticks(r[0], r[1]) {
			if tk.Label == "" {
				continue
			}
			if tk.Value != math.Round(tk.Value) || strings.Contains(tk.Label, ".") || tk.Label == "-0" {
				t.Errorf("%v: label %q at %v is not a whole number", r, tk.Label, tk.Value)
			}
			if tk.Value < r[0]-1e-9 || tk.Value > r[1]+1e-9 {
				t.Errorf("%v: tick %v outside the range", r, tk.Value)
			}
			labels = append(labels, tk.Label)
		}
		if want := min(2, int(math.Floor(r[1])-math.Ceil(r[0]))+1); len(labels) < want || len(labels) > 8 {
			t.Errorf("%v: labels %v, want %d..8", r, labels, want)
		}
	}
}

func TestStudyAxesOfWholeNumbers(t *testing.T) {
	s := SyntheticRegressionStudy(1).Study
	for _, a := range s.axes() {
		if want := a.name == "n_layers" || a.name == "n_units_l0" || a.name == "batch_size" || a.name == "n_epochs"; a.integer != want {
			t.Errorf("%s: integer %v, want %v", a.name, a.integer, want)
		}
	}
	a, _ := s.axis("n_layers")
	var labels []string
	for _, tk := range a.ticker().Ticks(1, 3) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if strings.Join(labels, ",") != "1,2,3" {
		t.Errorf("n_layers axis labels %v, want 1,2,3", labels)
	}
}

func TestActivationsOfOneOutputUnit(t *testing.T) {
	f, err := Activations(2, []Activation{{Layer: "hidden_0", Values: []float32{0, 1.5, 0.2}}, {Layer: "output", Values: []float32{-1.25}}})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "output: -1.25") {
		t.Error("the output panel does not give the output's value")
	}
	if strings.Contains(string(svg), "of 1 units active") {
		t.Error("the linear output unit is counted as active or not")
	}
	if !strings.Contains(string(svg), "2 of 3 units active") {
		t.Error("the hidden layer's count of active units is missing")
	}
}

func TestIntermediateValuesOfOneEpochTrialsAreDrawn(t *testing.T) {
	s := Study{Name: "one epoch", Direction: "maximize", Objective: "validation accuracy", Trials: []Trial{
		{Number: 0, State: "COMPLETE", Value: 0.7, Intermediate: map[int]float64{1: 0.7}},
		{Number: 1, State: "PRUNED", Intermediate: map[int]float64{1: 0.1}},
	}}
	f, err := IntermediateValues(s)
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	// A one-point line draws nothing: each value needs its own dot (a
	// circle is two arcs in gonum's SVG).
	if n := strings.Count(string(svg), "A2.2,2.2 0 1 1"); n < 4 {
		t.Errorf("%d arcs of dots, want one dot (2 arcs) per trial", n)
	}
}

func TestQuietCornerAvoidsData(t *testing.T) {
	p := newPlot("", "x", "y")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 10, 0, 1
	// Points top right and bottom right: the legend goes left, top first.
	quietCorner(p, []float64{9, 9.5, 9}, []float64{0.95, 0.9, 0.05})
	if !p.Legend.Top || !p.Legend.Left {
		t.Errorf("legend top=%v left=%v, want top left", p.Legend.Top, p.Legend.Left)
	}
	quietCorner(p, []float64{1, 9, 9}, []float64{0.95, 0.9, 0.05})
	if p.Legend.Top || !p.Legend.Left {
		t.Errorf("legend top=%v left=%v, want bottom left", p.Legend.Top, p.Legend.Left)
	}
	// Every corner taken: room is made at the top.
	quietCorner(p, []float64{1, 9, 9, 1}, []float64{0.95, 0.9, 0.05, 0.05})
	if !p.Legend.Top || p.Y.Max <= 1.2 {
		t.Errorf("legend top=%v, y axis up to %v: want room made above the data", p.Legend.Top, p.Y.Max)
	}
}

func TestDegenerateParamAxisUsesSearchedRange(t *testing.T) {
	a := paramAxis{name: "momentum", low: 0, high: 0.9}
	if lo, hi := a.span(0.086, 0.086); lo != 0 || hi != 0.9 {
		t.Errorf("momentum held by one trial spans %v..%v, want the searched 0..0.9", lo, hi)
	}
	lr := paramAxis{name: "lr", log: true, low: 1e-4, high: 1e-2}
	if lo, hi := lr.span(-3, -3); math.Abs(lo+4) > 1e-12 || math.Abs(hi+2) > 1e-12 {
		t.Errorf("log axis spans %v..%v, want -4..-2", lo, hi)
	}
	ep := paramAxis{name: "n_epochs", integer: true, low: 1, high: 2}
	if lo, hi := ep.span(1, 1); lo != 0.5 || hi != 1.5 {
		t.Errorf("integer axis spans %v..%v, want 0.5..1.5", lo, hi)
	}
}

func TestFeatureMapsNameConstantMaps(t *testing.T) {
	maps := Layer{Name: "conv2", Shape: []int{2, 2, 2}, Weights: []float32{0, 0, 0, 0, 0, 1, 2, 3}}
	in := Image{Pixels: []float32{0, 0.5, 1, 0.2}, Height: 2, Width: 2}
	f, err := FeatureMaps(NameFeatureMapsConv2, in, maps)
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "map 1 (all 0)") || strings.Contains(string(svg), "map 2 (all") {
		t.Error("the all-zero map is not named, or the varying one is")
	}
}

func TestSliceSharesTheObjectiveScale(t *testing.T) {
	// Three one-epoch trials, one of them SGD with momentum: the momentum
	// panel has one point and must not get a scale of its own around it
	// (validation accuracy from -0.4 to 0.4).
	s := Study{Name: "small", Direction: "maximize", Objective: "validation accuracy", Trials: []Trial{
		{Number: 0, State: "COMPLETE", Value: 0.70, Params: map[string]float64{"lr": 0.009}},
		{Number: 1, State: "COMPLETE", Value: 0.074, Params: map[string]float64{"lr": 0.0001, "momentum": 0.086}},
		{Number: 2, State: "COMPLETE", Value: 0.68, Params: map[string]float64{"lr": 0.002}},
	}, Params: []Param{{Name: "lr", Low: 1e-4, High: 1e-2, Log: true}, {Name: "momentum", Low: 0, High: 0.9}}}
	f, err := Slice(s)
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{">-0.2<", ">-0.4<", ">-0.1<"} {
		if strings.Contains(string(svg), bad) {
			t.Errorf("slice plot labels a negative accuracy %s", bad)
		}
	}
	if !strings.Contains(string(svg), ">0.8<") {
		t.Error("the momentum axis does not run over the searched 0..0.9")
	}
}
