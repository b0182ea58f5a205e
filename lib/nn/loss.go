package nn

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified, as in GoMLX's examples.
)

// exampleLosses returns the loss of each example of a batch, [batch]: the
// squared error averaged over the outputs (torch.nn.MSELoss's mean is the
// mean of these), or the cross-entropy of the logits against the labels
// (torch.nn.CrossEntropyLoss).
func exampleLosses(loss string, outputs, targets *Node) *Node {
	if loss == LossCrossEntropy {
		logp := LogSoftmax(outputs, -1)
		oneHot := OneHot(targets, outputs.Shape().Dimensions[1], outputs.DType())
		return Neg(ReduceSum(Mul(oneHot, logp), -1))
	}
	diff := Sub(outputs, targets)
	return ReduceMean(Mul(diff, diff), -1)
}

// correctCount is the number of real examples (mask 1, [batch]) whose highest
// logit is the label, as the model's dtype (0 for regression).
func correctCount(spec Spec, outputs, targets, mask *Node) *Node {
	if !spec.Classifier() {
		return ScalarZero(outputs.Graph(), outputs.DType())
	}
	predicted := ArgMax(outputs, -1, dtypes.Int32)
	return ReduceAllSum(Mul(ConvertDType(Equal(predicted, targets), outputs.DType()), mask))
}
