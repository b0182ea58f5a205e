package homework

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

// liveRedraw bounds how often the live curves are redrawn: a regression
// epoch takes milliseconds.
const liveRedraw = time.Second

// LiveLossCurves returns per-fold callbacks (for Options.FoldCallbacks) that,
// in a GoNB notebook, redraw the cross-validation's loss curves in place as
// the folds train: every finished fold, and the one training now. Outside a
// notebook it returns nil.
func LiveLossCurves() func(fold int) []nn.Callback {
	if !gonbui.IsNotebook {
		return nil
	}
	id := "hw1-live-losses-" + gonbui.UniqueId()
	var done []plot.History
	var last time.Time
	return func(fold int) []nn.Callback {
		current := plot.History{}
		return []nn.Callback{func(_ *nn.Model, st nn.EpochStats) error {
			current.Epochs = append(current.Epochs, st.Epoch)
			current.TrainLoss = append(current.TrainLoss, st.TrainLoss)
			current.ValLoss = append(current.ValLoss, st.ValLoss)
			if len(done) > fold {
				done[fold] = current
			} else {
				done = append(done, current)
			}
			if time.Since(last) < liveRedraw {
				return nil
			}
			last = time.Now()
			fig, err := plot.LossesForEachFold(done)
			if err != nil {
				return nil // nothing drawable yet (e.g. no validation loss)
			}
			fig.Title = fmt.Sprintf("Validation loss while training: fold %d, epoch %d", fold+1, st.Epoch)
			if png, err := fig.PNG(720, 400); err == nil {
				gonbui.UpdateHTML(id, `<img src="data:image/png;base64,`+base64.StdEncoding.EncodeToString(png)+`">`)
			}
			return nil
		}}
	}
}
