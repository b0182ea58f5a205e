package notebook

import (
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/dlworkbench/hw1/lib/figures"
	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

// liveLog keeps the latest lines written to it in one block of the cell's
// output, redrawn in place.
type liveLog struct {
	mu      sync.Mutex
	id      string
	keep    int
	lines   []string
	partial string
}

// Log is a writer for homework.Options.Log: in a notebook it shows the
// latest keep lines written to it in one block of the cell's output,
// redrawn in place (the progress of a long step without a scrolling wall of
// text); in a terminal it is os.Stderr.
func Log(keep int) io.Writer {
	if !gonbui.IsNotebook {
		return os.Stderr
	}
	return &liveLog{id: "hw1-log-" + gonbui.UniqueId(), keep: max(keep, 1)}
}

// Write keeps the complete lines of p and redraws the block.
func (l *liveLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial += string(p)
	for {
		i := strings.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, l.partial[:i])
		l.partial = l.partial[i+1:]
	}
	if len(l.lines) > l.keep {
		l.lines = l.lines[len(l.lines)-l.keep:]
	}
	gonbui.UpdateHTML(l.id, `<pre style="margin:0">`+html.EscapeString(strings.Join(l.lines, "\n"))+`</pre>`)
	return len(p), nil
}

// LiveOptions are the options of a cell that trains in view (the
// cross-validation's): the last 8 lines of the log (Log), each epoch's
// progress and the folds' loss curves (LiveLossCurves), each redrawn in
// place in a notebook; in a terminal, the log on os.Stderr and a progress
// bar.
func LiveOptions() homework.Options {
	return homework.Options{Log: Log(8), Progress: nn.ProgressAuto, FoldCallbacks: LiveLossCurves()}
}

// liveRedraw bounds how often the live curves are redrawn: a regression
// epoch takes milliseconds.
const liveRedraw = time.Second

// LiveLossCurves returns per-fold callbacks (for
// homework.Options.FoldCallbacks) that, in a notebook, redraw the
// cross-validation's loss curves in place as the folds train: every
// finished fold, and the one training now. In a terminal it returns nil
// (the progress bar shows the epochs).
func LiveLossCurves() func(fold int) []nn.Callback {
	if !gonbui.IsNotebook {
		return nil
	}
	id := "hw1-live-losses-" + gonbui.UniqueId()
	var done []plot.History
	var last time.Time
	return func(fold int) []nn.Callback {
		current := &nn.History{}
		return []nn.Callback{func(_ *nn.Model, st nn.EpochStats) error {
			current.Epochs = append(current.Epochs, st)
			if len(done) > fold {
				done[fold] = figures.History(current)
			} else {
				done = append(done, figures.History(current))
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
