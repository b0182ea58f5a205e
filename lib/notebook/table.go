package notebook

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/janpfeifer/gonb/gonbui"
)

// Table is one of the tables a run shows, as plain cells: a notebook shows
// it as markdown, a terminal as aligned columns (ShowTables, WriteText), so
// the notebooks and hw1 print the same rows.
type Table struct {
	// Title is a line above the table; none when empty.
	Title string
	// Header names the columns, and so says how many a row has in
	// markdown. A table of names and values names the first column and
	// leaves the second empty; a header of empty cells is not printed in a
	// terminal.
	Header []string
	Rows   [][]string
	// Note is a line below the table; none when empty.
	Note string
}

// Markdown is the table as GitHub-flavoured markdown, the title and the
// note as paragraphs around it. A "|" in a cell is escaped, so that it
// stays in its cell.
func (t Table) Markdown() string {
	var b strings.Builder
	if t.Title != "" {
		b.WriteString(t.Title + "\n\n")
	}
	row := func(cells []string) {
		b.WriteString("|")
		for i := range t.Header {
			cell := ""
			if i < len(cells) {
				cell = strings.ReplaceAll(cells[i], "|", `\|`)
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	row(t.Header)
	b.WriteString(strings.Repeat("|---", len(t.Header)) + "|\n")
	for _, r := range t.Rows {
		row(r)
	}
	if t.Note != "" {
		b.WriteString("\n" + t.Note + "\n")
	}
	return b.String()
}

// Text is the table as plain text for a terminal: the title, then the
// header and the rows in columns two spaces apart, then the note.
func (t Table) Text() string {
	var b strings.Builder
	if t.Title != "" {
		b.WriteString(t.Title + "\n")
	}
	var cells strings.Builder
	tw := tabwriter.NewWriter(&cells, 0, 0, 2, ' ', 0)
	if strings.Join(t.Header, "") != "" {
		fmt.Fprintln(tw, strings.Join(t.Header, "\t"))
	}
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	// A last column left empty would leave the padding of the one before.
	for line := range strings.Lines(cells.String()) {
		b.WriteString(strings.TrimRight(line, " \n") + "\n")
	}
	if t.Note != "" {
		b.WriteString(t.Note + "\n")
	}
	return b.String()
}

// WriteText writes the tables as plain text (Text), a blank line between
// two: what a terminal program prints.
func WriteText(w io.Writer, tables ...Table) error {
	for i, t := range tables {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(w, t.Text()); err != nil {
			return err
		}
	}
	return nil
}

// ShowTables shows the tables as markdown in a notebook, in one display,
// and prints them as plain text in a terminal (WriteText to Out).
func ShowTables(tables ...Table) {
	if !gonbui.IsNotebook {
		WriteText(Out, tables...)
		return
	}
	md := make([]string, len(tables))
	for i, t := range tables {
		md[i] = t.Markdown()
	}
	Markdown(strings.Join(md, "\n"))
}
