package notebook

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/dlworkbench/hw1/lib/plot"
)

// Out is where the display helpers write outside a notebook.
var Out io.Writer = os.Stdout

// Markdown shows md rendered in a notebook, as it is in a terminal.
func Markdown(md string) {
	if !gonbui.IsNotebook {
		fmt.Fprintln(Out, md)
		return
	}
	gonbui.DisplayMarkdown(md)
	gonbui.Sync()
}

// Show shows a figure inline in a notebook, or returns the error that
// building it gave, so that a cell reads notebook.Show(figures.Losses(res)).
// In a terminal it prints the figure's name and title.
func Show(f *plot.Figure, err error) error {
	if err != nil {
		return err
	}
	if !gonbui.IsNotebook {
		fmt.Fprintf(Out, "figure %s: %s\n", f.Name, f.Title)
		return nil
	}
	if err := f.Show(); err != nil {
		return err
	}
	gonbui.Sync()
	return nil
}

// ShowAll shows the figures in order (Show), or the error that building
// them gave.
func ShowAll(figs []*plot.Figure, err error) error {
	if err != nil {
		return err
	}
	for _, f := range figs {
		if err := Show(f, nil); err != nil {
			return err
		}
	}
	return nil
}

// ShowFile shows a saved figure under its caption: path.gif as an
// animation, else path.png.
func ShowFile(stem, caption string) error {
	if b, err := os.ReadFile(stem + ".gif"); err == nil {
		return display(caption, `<img src="data:image/gif;base64,`+base64.StdEncoding.EncodeToString(b)+`"/>`, nil, stem+".gif")
	}
	b, err := os.ReadFile(stem + ".png")
	if err != nil {
		return err
	}
	return display(caption, "", b, stem+".png")
}

// display shows a caption and an image (HTML, else PNG bytes) in a
// notebook, or names the file in a terminal.
func display(caption, html string, png []byte, file string) error {
	if !gonbui.IsNotebook {
		fmt.Fprintf(Out, "%s: %s\n", caption, file)
		return nil
	}
	gonbui.DisplayMarkdown("**" + caption + "**")
	if html != "" {
		gonbui.DisplayHTML(html)
	} else {
		gonbui.DisplayPng(png)
	}
	gonbui.Sync()
	return nil
}
