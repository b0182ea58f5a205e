// Package notebook is what the two GoNB notebooks call between the steps of
// lib/homework, and what a terminal program calls too: the configuration of
// a run from the environment (Config, Open, ShowSetup), the run of a later
// cell with its study loaded (Reopen), display helpers that show a figure
// or a table inline in GoNB and print it in a terminal (Show, ShowTables,
// Markdown), live progress redrawn in place (Log, LiveLossCurves,
// LiveOptions: gonbui.UpdateHTML, since widgets hang under nbconvert), the
// seed's tables and a run's (StudyTables, SpaceTable, ModelTable,
// FoldsTable, MetricsTable, SummaryTables, WorkerTables), and the figures a
// run saved (ShowResults, ShowSavedResults).
//
// Each GoNB cell is a program of its own, so a cell reopens what it needs:
// what every notebook repeats for that is one call here (Reopen,
// ShowSetup, ShowSavedResults), and the steps that are a cell's point
// (RunStudy, BuildOptModel, RunCV, WriteResults) stay in the cell.
//
// A table is a value (Table) rendered as markdown in a notebook and as
// aligned columns in a terminal: hw1 prints its closing summary with the
// same tables the notebooks show (WriteText).
//
// Every display helper waits until GoNB has received what it displayed
// (gonbui.Sync): a cell's program may exit right after it.
//
// It is not where a step of the homework is computed: every cell's work is
// lib/homework's, lib/figures' or lib/data's, and this package only opens,
// shows and prints.
package notebook
