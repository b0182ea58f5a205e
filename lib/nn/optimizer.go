package nn

import (
	"fmt"
	"math"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified, as in GoMLX's examples.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// The optimizers below follow PyTorch's update rules, not GoMLX's: the seed's
// hyperparameters were found with torch.optim, and GoMLX's Adam and RMSProp
// differ in where epsilon and weight decay enter (and it has no SGD momentum).
// The learning rate, weight decay and momentum are variables rather than
// constants so that one compiled train step serves every trial of a search.

// optimizerScope holds the optimizer's hyperparameter and state variables,
// apart from the model's so that checkpoints and weight listings skip them.
const optimizerScope = "/optimizer"

// Fixed constants of the optimizers: PyTorch's defaults, never searched.
const (
	adamBeta1      = 0.9
	adamBeta2      = 0.999
	adamEpsilon    = 1e-8
	rmspropAlpha   = 0.99
	rmspropEpsilon = 1e-8
)

// optimizerKind returns the canonical lower-case name of an optimizer.
func optimizerKind(name string) (string, error) {
	switch strings.ToLower(name) {
	case "sgd":
		return "sgd", nil
	case "adam":
		return "adam", nil
	case "rmsprop":
		return "rmsprop", nil
	}
	return "", fmt.Errorf("optimizer %q unknown (want SGD, Adam or RMSprop)", name)
}

// Names of the optimizer's hyperparameter variables in optimizerScope.
const (
	hpLearningRate = "learning_rate"
	hpWeightDecay  = "weight_decay"
	hpMomentum     = "momentum"
	hpStep         = "step"
	// Which optimizer the anyOptimizer graph runs: 1 for it, 0 otherwise.
	hpIsAdam    = "is_adam"
	hpIsRMSprop = "is_rmsprop"
	hpIsSGD     = "is_sgd"
)

// hyperparameterVar returns the scalar variable holding one optimizer
// hyperparameter, creating it (at 0) the first time.
func hyperparameterVar(store *model.Store, spec Spec, name string) *model.Variable {
	path := model.JoinPath(optimizerScope, name)
	if v := store.GetVariable(path); v != nil {
		return v
	}
	return store.VariableWithValue(path, scalarTensor(spec, 0)).SetTrainable(false)
}

// stateVar returns a zero-initialised optimizer state variable for param.
func stateVar(store *model.Store, kind string, param *model.Variable, suffix string) *model.Variable {
	path := model.JoinPath(optimizerScope, kind, param.Scope(), param.Name()+"_"+suffix)
	if v := store.GetVariable(path); v != nil {
		return v
	}
	return store.VariableWithValue(path, tensors.FromShape(param.Shape())).SetTrainable(false)
}

func scalarTensor(spec Spec, x float64) *tensors.Tensor {
	if spec.DType == Float64 {
		return tensors.FromScalar(x)
	}
	return tensors.FromScalar(float32(x))
}

// anyOptimizer is the kind of the train graph that runs any of the three
// optimizers (buildAnyOptimizerUpdate), and the scope of its state.
const anyOptimizer = "any"

// Names of the state variables of anyOptimizer, after the parameter's name.
const (
	anyFirst  = "first_moment"
	anySecond = "second_moment"
)

// anyOptimizerState returns the variables the anyOptimizer step changes
// besides the parameters: the step counter and two buffers per parameter
// (created zeroed when new).
func anyOptimizerState(store *model.Store, spec Spec, params []*model.Variable) []*model.Variable {
	state := []*model.Variable{hyperparameterVar(store, spec, hpStep)}
	for _, p := range params {
		state = append(state, stateVar(store, anyOptimizer, p, anyFirst), stateVar(store, anyOptimizer, p, anySecond))
	}
	return state
}

// anyOptimizerInputs are the hyperparameters the anyOptimizer step reads.
var anyOptimizerInputs = []string{hpLearningRate, hpWeightDecay, hpMomentum, hpIsAdam, hpIsRMSprop, hpIsSGD}

// buildAnyOptimizerUpdate is buildOptimizerUpdate for the three optimizers
// in one graph, so that one compiled graph serves every trial of a search
// whatever its optimizer: which one steps is in three variables (hpIsAdam,
// hpIsRMSprop, hpIsSGD; one is 1, the others 0). With g the gradient plus
// weight decay, it keeps buffers F and Q per parameter and steps
//
//	Q = b2 Q + g²,  d = c sqrt(Q) + E,  F = b1 F + g / (r d + 1 - r),  p -= S F / (a d + 1 - a)
//
// Adam: b1 = β1, b2 = β2, c = 1, r = 0, a = 1, and S, E as in
// buildOptimizerUpdate (F and Q are its M and V). RMSprop: b1 = momentum,
// b2 = α, c = 1, r = 1, a = 0, S = lr/sqrt(1-α), E = eps/sqrt(1-α) (F is
// the momentum buffer, or g/d itself with momentum 0). SGD: b1 = momentum,
// b2 = 0, c = 0, E = 1, r = 0, a = 0, S = lr. Every coefficient is exactly 0
// or 1 where it selects, and x·1, x·0 = 0 and x + 0 are exact in floating
// point, so the step is the one optimizer's arithmetic, in its order;
// TestEpochLoopMatchesSteps finds the values of each optimizer's own graph
// within float32 rounding (XLA may fuse the two graphs differently).
func buildAnyOptimizerUpdate(store *model.Store, spec Spec, params []*model.Variable, grads []*Node) {
	if len(params) == 0 {
		return
	}
	g := grads[0].Graph()
	hp := func(name string) *Node { return hyperparameterVar(store, spec, name).NodeValue(g) }
	lr, wd, momentum := hp(hpLearningRate), hp(hpWeightDecay), hp(hpMomentum)
	isAdam, isRMSprop, isSGD := hp(hpIsAdam), hp(hpIsRMSprop), hp(hpIsSGD)
	stepVar := hyperparameterVar(store, spec, hpStep)
	step := OnePlus(stepVar.NodeValue(g))
	stepVar.SetNodeValue(step)
	dtype := lr.DType()
	one := ScalarOne(g, dtype)
	constant := func(x float64) *Node { return Scalar(g, dtype, x) }
	adamS, adamE := adamStep(lr, step)
	rootOneMinusAlpha := math.Sqrt(1 - rmspropAlpha)
	stepSize := Add(Add(Mul(isAdam, adamS), Mul(isRMSprop, DivScalar(lr, rootOneMinusAlpha))), Mul(isSGD, lr))
	eps := Add(Add(Mul(isAdam, adamE), Mul(isRMSprop, constant(rmspropEpsilon/rootOneMinusAlpha))), isSGD)
	b1 := Add(Mul(isAdam, constant(adamBeta1)), Mul(Add(isRMSprop, isSGD), momentum))
	b2 := Add(Mul(isAdam, constant(adamBeta2)), Mul(isRMSprop, constant(rmspropAlpha)))
	c := Add(isAdam, isRMSprop)
	notRMSprop, notAdam := Sub(one, isRMSprop), Sub(one, isAdam)
	for i, param := range params {
		p := param.NodeValue(g)
		grad := Add(grads[i], Mul(wd, p))
		firstVar := stateVar(store, anyOptimizer, param, anyFirst)
		secondVar := stateVar(store, anyOptimizer, param, anySecond)
		q := Add(Mul(b2, secondVar.NodeValue(g)), Mul(grad, grad))
		d := Add(Mul(c, Sqrt(q)), eps)
		f := Add(Mul(b1, firstVar.NodeValue(g)), Div(grad, Add(Mul(isRMSprop, d), notRMSprop)))
		secondVar.SetNodeValue(q)
		firstVar.SetNodeValue(f)
		param.SetNodeValue(Sub(p, Mul(stepSize, Div(f, Add(Mul(isAdam, d), notAdam)))))
	}
}

// adamStep is Adam's step size S and epsilon E at step (from 1) for the
// running averages kept over their constant weights (buildOptimizerUpdate):
// k = sqrt(1-b2)/sqrt(bc2), S = lr (1-b1)/(bc1 k) and E = eps/k, with
// bc_i = 1 - b_i^step.
func adamStep(lr, step *Node) (stepSize, eps *Node) {
	g, dtype := lr.Graph(), lr.DType()
	one := ScalarOne(g, dtype)
	bc1 := Sub(one, Pow(Scalar(g, dtype, adamBeta1), step))
	rootBC2 := Sqrt(Sub(one, Pow(Scalar(g, dtype, adamBeta2), step)))
	k := Div(Scalar(g, dtype, math.Sqrt(1-adamBeta2)), rootBC2)
	return Div(MulScalar(lr, 1-adamBeta1), Mul(bc1, k)), Div(Scalar(g, dtype, adamEpsilon), k)
}

// buildOptimizerUpdate adds to the graph one optimizer step over params, given
// their gradients, as PyTorch's torch.optim.{SGD,Adam,RMSprop} (no dampening,
// no Nesterov, no AMSGrad, centered=false) with coupled weight decay. kind is
// an optimizerKind, or trainKind's "rmsprop_momentum".
//
// On the pure-Go backend a small network's step is mostly the optimizer's
// elementwise passes over the parameters, each a node to dispatch and a loop
// over the weights. So the scalars (bias corrections, step sizes) are
// computed once for all parameters, and the running averages are kept
// divided by their constant weights (Adam's m/(1-beta1) and v/(1-beta2),
// RMSprop's square average over 1-alpha), which gives torch's updates
// exactly in real arithmetic with fewer passes per parameter: Adam 12 instead
// of 15, RMSprop 10 (12 with momentum) instead of 13, SGD 6.
// TestOptimizerParity compares them with torch's trajectories.
func buildOptimizerUpdate(store *model.Store, spec Spec, kind string, params []*model.Variable, grads []*Node) {
	if len(params) == 0 {
		return
	}
	g := grads[0].Graph()
	lr := hyperparameterVar(store, spec, hpLearningRate).NodeValue(g)
	wd := hyperparameterVar(store, spec, hpWeightDecay).NodeValue(g)
	momentum := hyperparameterVar(store, spec, hpMomentum).NodeValue(g)
	stepVar := hyperparameterVar(store, spec, hpStep)
	step := OnePlus(stepVar.NodeValue(g))
	stepVar.SetNodeValue(step)

	// Adam, torch: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g², and
	// p -= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps) with bc_i = 1 - b_i^t.
	// Kept here: M = m/(1-b1) and V = v/(1-b2), so M = b1 M + g and
	// V = b2 V + g², and the step is p -= S · M / (sqrt(V) + E) (adamStep).
	var adamS, adamE *Node
	if kind == "adam" {
		adamS, adamE = adamStep(lr, step)
	}
	// RMSprop, torch: sq = a sq + (1-a) g², avg = sqrt(sq) + eps, and
	// p -= lr g/avg (momentum 0) or buf = mu buf + g/avg, p -= lr buf. Kept
	// here: Q = sq/(1-a), so Q = a Q + g², and with r = sqrt(1-a),
	// g/avg = (g / (sqrt(Q) + eps/r)) / r; the buffer is kept times r.
	rootOneMinusAlpha := math.Sqrt(1 - rmspropAlpha)
	rmspropStep := DivScalar(lr, rootOneMinusAlpha)
	for i, param := range params {
		p := param.NodeValue(g)
		grad := Add(grads[i], Mul(wd, p))
		var update *Node
		switch kind {
		case "sgd":
			// torch: buf = grad on the first step, then momentum*buf + grad.
			// With buf starting at 0 the one formula covers both, and momentum
			// 0 gives plain SGD.
			bufVar := stateVar(store, kind, param, "momentum_buffer")
			buf := Add(Mul(momentum, bufVar.NodeValue(g)), grad)
			bufVar.SetNodeValue(buf)
			update = Mul(lr, buf)
		case "adam":
			mVar := stateVar(store, kind, param, "exp_avg_over_1_minus_beta1")
			vVar := stateVar(store, kind, param, "exp_avg_sq_over_1_minus_beta2")
			m := Add(MulScalar(mVar.NodeValue(g), adamBeta1), grad)
			v := Add(MulScalar(vVar.NodeValue(g), adamBeta2), Mul(grad, grad))
			mVar.SetNodeValue(m)
			vVar.SetNodeValue(v)
			update = Mul(adamS, Div(m, Add(Sqrt(v), adamE)))
		case "rmsprop", "rmsprop_momentum":
			sqVar := stateVar(store, "rmsprop", param, "square_avg_over_1_minus_alpha")
			sq := Add(MulScalar(sqVar.NodeValue(g), rmspropAlpha), Mul(grad, grad))
			sqVar.SetNodeValue(sq)
			scaled := Div(grad, AddScalar(Sqrt(sq), rmspropEpsilon/rootOneMinusAlpha))
			if kind == "rmsprop_momentum" {
				// torch keeps a momentum buffer only when momentum > 0.
				bufVar := stateVar(store, "rmsprop", param, "momentum_buffer_times_root_1_minus_alpha")
				scaled = Add(Mul(momentum, bufVar.NodeValue(g)), scaled)
				bufVar.SetNodeValue(scaled)
			}
			update = Mul(rmspropStep, scaled)
		default:
			panic(fmt.Sprintf("optimizer kind %q unknown", kind))
		}
		param.SetNodeValue(Sub(p, update))
	}
}

// trainKind is the train graph an optimizer's run uses: RMSprop without
// momentum skips the momentum buffer (two passes per parameter), as torch
// does; every other optimizer has one graph for all its hyperparameters.
func trainKind(kind string, hp Hyperparameters) string {
	if kind == "rmsprop" && hp.Momentum != 0 {
		return "rmsprop_momentum"
	}
	return kind
}

// resetOptimizer zeroes the state of every optimizer and sets the
// hyperparameters for a new training run.
func resetOptimizer(store *model.Store, spec Spec, hp Hyperparameters) error {
	kind, err := optimizerKind(hp.Optimizer)
	if err != nil {
		return err
	}
	is := func(k string) float64 {
		if kind == k {
			return 1
		}
		return 0
	}
	values := map[string]float64{
		hpLearningRate: hp.LearningRate,
		hpWeightDecay:  hp.WeightDecay,
		hpMomentum:     hp.Momentum,
		hpStep:         0,
		hpIsAdam:       is("adam"),
		hpIsRMSprop:    is("rmsprop"),
		hpIsSGD:        is("sgd"),
	}
	for name, x := range values {
		if err := hyperparameterVar(store, spec, name).SetValue(scalarTensor(spec, x)); err != nil {
			return fmt.Errorf("optimizer %s: %w", name, err)
		}
	}
	for v := range store.IterVariables() {
		if strings.HasPrefix(v.Scope(), optimizerScope+"/") {
			if err := v.SetValue(tensors.FromShape(v.Shape())); err != nil {
				return fmt.Errorf("optimizer state %s: %w", v.Path(), err)
			}
		}
	}
	return nil
}
