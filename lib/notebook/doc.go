// Package notebook is what the two GoNB notebooks call between the steps of
// lib/homework, and what a terminal program can call too: the
// configuration of a run from the environment (Config), display helpers that
// show a figure or a markdown table inline in GoNB and print it in a
// terminal (Show, Markdown), live progress redrawn in place (Log,
// LiveLossCurves: gonbui.UpdateHTML, since widgets hang under nbconvert),
// the seed's tables (StudyTables, SpaceTable, ModelTable, FoldsTable,
// MetricsTable) and the figures a run saved (ShowResults).
//
// Every display helper waits until GoNB has received what it displayed
// (gonbui.Sync): a cell's program may exit right after it.
package notebook
