package nn

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph building reads better unqualified, as in GoMLX's examples.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
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
)

// hyperparameterVar returns the scalar variable holding one optimizer
// hyperparameter, creating it (at 0) the first time.
func hyperparameterVar(ctx *context.Context, spec Spec, name string) *context.Variable {
	c := ctx.InAbsPath(optimizerScope).Checked(false)
	if v := c.GetVariableByScopeAndName(optimizerScope, name); v != nil {
		return v
	}
	return c.VariableWithValue(name, scalarTensor(spec, 0)).SetTrainable(false)
}

// stateVar returns a zero-initialised optimizer state variable for param.
func stateVar(ctx *context.Context, kind string, param *context.Variable, suffix string) *context.Variable {
	scope := optimizerScope + "/" + kind + param.Scope()
	name := param.Name() + "_" + suffix
	if v := ctx.GetVariableByScopeAndName(scope, name); v != nil {
		return v
	}
	return ctx.InAbsPath(scope).Checked(false).
		VariableWithValue(name, tensors.FromShape(param.Shape())).SetTrainable(false)
}

func scalarTensor(spec Spec, x float64) *tensors.Tensor {
	if spec.DType == Float64 {
		return tensors.FromScalar(x)
	}
	return tensors.FromScalar(float32(x))
}

// buildOptimizerUpdate adds to the graph one optimizer step over params, given
// their gradients, as PyTorch's torch.optim.{SGD,Adam,RMSprop} (no dampening,
// no Nesterov, no AMSGrad, centered=false) with coupled weight decay.
func buildOptimizerUpdate(ctx *context.Context, spec Spec, kind string, params []*context.Variable, grads []*Node) {
	if len(params) == 0 {
		return
	}
	g := grads[0].Graph()
	lr := hyperparameterVar(ctx, spec, hpLearningRate).ValueGraph(g)
	wd := hyperparameterVar(ctx, spec, hpWeightDecay).ValueGraph(g)
	momentum := hyperparameterVar(ctx, spec, hpMomentum).ValueGraph(g)
	stepVar := hyperparameterVar(ctx, spec, hpStep)
	step := OnePlus(stepVar.ValueGraph(g))
	stepVar.SetValueGraph(step)
	dtype := lr.DType()
	one := ScalarOne(g, dtype)

	for i, param := range params {
		p := param.ValueGraph(g)
		grad := Add(grads[i], Mul(wd, p))
		var update *Node
		switch kind {
		case "sgd":
			// torch: buf = grad on the first step, then momentum*buf + grad.
			// With buf starting at 0 the one formula covers both, and momentum
			// 0 gives plain SGD.
			bufVar := stateVar(ctx, kind, param, "momentum_buffer")
			buf := Add(Mul(momentum, bufVar.ValueGraph(g)), grad)
			bufVar.SetValueGraph(buf)
			update = Mul(lr, buf)
		case "adam":
			mVar := stateVar(ctx, kind, param, "exp_avg")
			vVar := stateVar(ctx, kind, param, "exp_avg_sq")
			m := Add(MulScalar(mVar.ValueGraph(g), adamBeta1), MulScalar(grad, 1-adamBeta1))
			v := Add(MulScalar(vVar.ValueGraph(g), adamBeta2), MulScalar(Mul(grad, grad), 1-adamBeta2))
			mVar.SetValueGraph(m)
			vVar.SetValueGraph(v)
			bc1 := Sub(one, Pow(Scalar(g, dtype, adamBeta1), step))
			bc2 := Sub(one, Pow(Scalar(g, dtype, adamBeta2), step))
			denom := AddScalar(Div(Sqrt(v), Sqrt(bc2)), adamEpsilon)
			update = Mul(Div(lr, bc1), Div(m, denom))
		case "rmsprop":
			sqVar := stateVar(ctx, kind, param, "square_avg")
			sq := Add(MulScalar(sqVar.ValueGraph(g), rmspropAlpha), MulScalar(Mul(grad, grad), 1-rmspropAlpha))
			sqVar.SetValueGraph(sq)
			avg := AddScalar(Sqrt(sq), rmspropEpsilon)
			// torch keeps a momentum buffer only when momentum > 0; with the
			// buffer starting at 0, momentum 0 gives the same update.
			bufVar := stateVar(ctx, kind, param, "momentum_buffer")
			buf := Add(Mul(momentum, bufVar.ValueGraph(g)), Div(grad, avg))
			bufVar.SetValueGraph(buf)
			update = Mul(lr, buf)
		default:
			panic(fmt.Sprintf("optimizer kind %q unknown", kind))
		}
		param.SetValueGraph(Sub(p, update))
	}
}

// resetOptimizer zeroes the state of every optimizer and sets the
// hyperparameters for a new training run.
func resetOptimizer(ctx *context.Context, spec Spec, hp Hyperparameters) error {
	values := map[string]float64{
		hpLearningRate: hp.LearningRate,
		hpWeightDecay:  hp.WeightDecay,
		hpMomentum:     hp.Momentum,
		hpStep:         0,
	}
	for name, x := range values {
		if err := hyperparameterVar(ctx, spec, name).SetValue(scalarTensor(spec, x)); err != nil {
			return fmt.Errorf("optimizer %s: %w", name, err)
		}
	}
	for v := range ctx.IterVariables() {
		if strings.HasPrefix(v.Scope(), optimizerScope+"/") {
			if err := v.SetValue(tensors.FromShape(v.Shape())); err != nil {
				return fmt.Errorf("optimizer state %s: %w", v.ScopeAndName(), err)
			}
		}
	}
	return nil
}
