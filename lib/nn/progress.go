package nn

import (
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"golang.org/x/term"
)

// ProgressMode chooses how Fit shows its progress.
type ProgressMode int

const (
	// ProgressAuto shows a bar on stderr when it is a terminal, and a
	// display in the notebook when running under GoNB.
	ProgressAuto ProgressMode = iota
	// ProgressOff shows nothing.
	ProgressOff
	// ProgressAlways writes the bar to ProgressOut (or stderr) even when it
	// is not a terminal, one line per epoch; and the notebook display under
	// GoNB.
	ProgressAlways
)

// progress draws Fit's bar. Redraws are throttled: a step of the regression
// takes well under a millisecond.
type progress struct {
	out       io.Writer
	terminal  bool
	notebook  bool
	htmlID    string
	label     string
	epochs    int
	batches   int
	last      time.Time
	lastStats EpochStats
	started   time.Time
}

const redrawEvery = 200 * time.Millisecond

func newProgress(opts Options, epochs, batches int) *progress {
	p := &progress{label: opts.Label, epochs: epochs, batches: batches, started: time.Now()}
	if opts.Progress == ProgressOff {
		return p
	}
	p.out = opts.ProgressOut
	if p.out == nil {
		p.out = os.Stderr
	}
	if f, ok := p.out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.terminal = true
	} else if opts.Progress != ProgressAlways {
		p.out = nil
	}
	if gonbui.IsNotebook {
		p.notebook = true
		p.htmlID = "hw1-fit-" + gonbui.UniqueId()
	}
	return p
}

func (p *progress) batch(epoch, batch int, meanLoss float64) {
	if p.out == nil && !p.notebook {
		return
	}
	if time.Since(p.last) < redrawEvery && batch != p.batches {
		return
	}
	p.last = time.Now()
	line := fmt.Sprintf("%sepoch %d/%d %s %3.0f%% loss %.4f", p.prefix(), epoch, p.epochs,
		bar(float64(batch)/float64(p.batches), 20), 100*float64(batch)/float64(p.batches), meanLoss)
	if p.terminal {
		fmt.Fprintf(p.out, "\r\033[K%s", line)
	}
	if p.notebook {
		gonbui.UpdateHTML(p.htmlID, p.html(line))
	}
}

func (p *progress) epoch(s EpochStats) {
	p.lastStats = s
	if p.out == nil && !p.notebook {
		return
	}
	line := p.prefix() + formatStats(s, p.epochs)
	if p.terminal {
		fmt.Fprintf(p.out, "\r\033[K%s", line)
	} else if p.out != nil {
		fmt.Fprintln(p.out, line)
	}
	if p.notebook {
		gonbui.UpdateHTML(p.htmlID, p.html(line))
	}
}

func (p *progress) done() {
	if p.terminal {
		fmt.Fprintln(p.out)
	}
}

func (p *progress) prefix() string {
	if p.label == "" {
		return ""
	}
	return p.label + ": "
}

func (p *progress) html(line string) string {
	return fmt.Sprintf(`<pre style="margin:0">%s</pre>`, html.EscapeString(line))
}

// formatStats is the one-line summary of an epoch.
func formatStats(s EpochStats, epochs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d/%d train loss %.4f", s.Epoch, epochs, s.TrainLoss)
	if !math.IsNaN(s.TrainAccuracy) {
		fmt.Fprintf(&b, " acc %.4f", s.TrainAccuracy)
	}
	if !math.IsNaN(s.ValLoss) {
		fmt.Fprintf(&b, " | val loss %.4f", s.ValLoss)
	}
	if !math.IsNaN(s.ValAccuracy) {
		fmt.Fprintf(&b, " acc %.4f", s.ValAccuracy)
	}
	fmt.Fprintf(&b, " | %.2fs", s.Seconds)
	return b.String()
}

func bar(frac float64, width int) string {
	n := int(math.Round(frac * float64(width)))
	n = max(0, min(width, n))
	return "[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]"
}
