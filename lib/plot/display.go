package plot

import (
	"encoding/base64"

	"github.com/janpfeifer/gonb/gonbui"
)

// Show displays the figure inline when running in a GoNB notebook, as a PNG
// at its nominal size (sharp, and light enough for a notebook file). Outside
// a notebook it draws nothing and returns ErrNotNotebook.
func (f *Figure) Show() error {
	if !gonbui.IsNotebook {
		return ErrNotNotebook
	}
	b, err := f.PNG(0, 0)
	if err != nil {
		return err
	}
	gonbui.DisplayPng(b)
	return nil
}

// ShowSVG is Show with SVG, for figures that will be zoomed.
func (f *Figure) ShowSVG() error {
	if !gonbui.IsNotebook {
		return ErrNotNotebook
	}
	b, err := f.SVG()
	if err != nil {
		return err
	}
	gonbui.DisplaySvg(string(b))
	return nil
}

// Show displays the animation inline in a GoNB notebook as an animated GIF.
// Outside a notebook it returns ErrNotNotebook.
func (a *Animation) Show() error {
	if !gonbui.IsNotebook {
		return ErrNotNotebook
	}
	b, err := a.GIF()
	if err != nil {
		return err
	}
	gonbui.DisplayHTML(`<img src="data:image/gif;base64,` + base64.StdEncoding.EncodeToString(b) + `"/>`)
	return nil
}

// Display shows a figure, or returns the error that building it gave: it
// lets a notebook cell read `plot.Display(plot.Losses(folds))`.
func Display(f *Figure, err error) error {
	if err != nil {
		return err
	}
	return f.Show()
}
