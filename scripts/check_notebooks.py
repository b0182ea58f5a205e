#!/usr/bin/env python3
"""Runs the project's GoNB notebooks headless and checks what they show.

Each notebook is executed with nbclient on the GoNB kernel (HW1_PRESET=smoke
unless the environment says otherwise), cell by cell with a time limit per cell.
The executed notebook and its HTML export are written to notebooks/.executed/
(git-ignored), together with the kernel's log, whether the run passed or not,
so a failure can be read there. A notebook fails the check when:

  - a cell raised (an output of type "error": GoNB reports compile errors and
    non-zero exits that way), or a cell ran past its time limit;
  - a stderr stream looks like a Go compile error or a panic (a program can
    print a panic and still be reported as a plain stream);
  - it shows fewer images than EXPECTED says. An image is an output holding
    image/png or image/svg+xml, or an HTML output with an inline <img> or
    <svg> (GoNB animations and some gonbui helpers are HTML).

With --progress the run is shown as it goes, on stdout: each cell as it
starts (its first line of code), what the cell prints, the new lines of its
live logs (the study's trial lines, the folds), a line per figure and the
markdown tables. With --summary, the run ends with a table of the headline
numbers of each results folder under $HW1_OUT (read from summary.json).

Other modes, which start no kernel:
  --strip NOTEBOOK...   removes outputs and execution counts in place (the
                        committed notebooks carry none);
  --check-clean         fails if a committed notebook carries outputs;
  --list-json           prints the notebooks and their expected image counts,
                        which tests/browser/check_notebooks.mjs reads.

Usage (from the repository root, with the project venv):
  .venv/bin/python scripts/check_notebooks.py [--timeout SECONDS] [--progress] [--summary] [NOTEBOOK...]
"""

import argparse
import html
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
EXECUTED = NOTEBOOKS / ".executed"

# The least number of images each notebook must show once executed. Raise
# these as figures are added; a figure that silently stops rendering then
# fails the check instead of going unnoticed.
EXPECTED = {
    "homework_1_regression.ipynb": 19,  # data, 6 study figures, 11 results, fit.gif
    "homework_1_classification.ipynb": 18,  # samples, 6 study figures, 11 results
}

# Default time limit for one cell, in seconds. The first Go cell of a fresh
# machine compiles GoMLX and its dependencies, which takes minutes on 2 cores.
DEFAULT_CELL_TIMEOUT = 900

IMAGE_MIMES = ("image/png", "image/svg+xml", "image/gif", "image/jpeg")
INLINE_IMAGE = re.compile(r"<img\b[^>]*\bsrc=[\"']data:image/|<svg\b", re.IGNORECASE)

# Lines of stderr that mean the Go program did not build or crashed.
GO_FAILURE = re.compile(
    r"^panic: "
    r"|^fatal error: "
    r"|^goroutine \d+ \[[a-z ]+\]:"
    r"|\.go:\d+:\d+: "  # compiler diagnostics: file.go:12:3: message
    r"|^# command-line-arguments"
    r"|\bexit status [1-9]\d*\b",
    re.MULTILINE,
)


def text_of(value):
    """Joins a notebook text field, which may be a string or a list of lines."""
    return "".join(value) if isinstance(value, list) else (value or "")


def count_images(nb):
    """Counts the outputs of nb that show an image."""
    n = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if any(m in data for m in IMAGE_MIMES):
                n += 1
            elif "text/html" in data and INLINE_IMAGE.search(text_of(data["text/html"])):
                n += 1
    return n


def failures(nb):
    """Lists the problems found in the outputs of an executed notebook."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"cell {i} (execution {cell.get('execution_count')})"
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                found.append(f"{where}: error {out.get('ename')}: {out.get('evalue')}")
            elif kind == "stream" and out.get("name") == "stderr":
                m = GO_FAILURE.search(text_of(out.get("text")))
                if m:
                    found.append(f"{where}: stderr looks like a Go failure: {m.group(0).strip()!r}")
    return found


def write_atomic(path, text):
    """Writes text to path through a temporary file, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def kernel_env():
    """The environment the kernel inherits: the smoke preset by default, a
    fresh results folder (HW1_OUT) and the shared data copy when there is one.
    goimports comes from the kernel spec's own PATH (.tools/bin)."""
    env = os.environ
    env.setdefault("HW1_PRESET", "smoke")
    # A fresh results folder per check: a study left by an earlier run would
    # be resumed, and the check would then train nothing.
    if "HW1_OUT" not in env:
        out = EXECUTED / "out"
        shutil.rmtree(out, ignore_errors=True)
        env["HW1_OUT"] = str(out)
    shared = ROOT.parent / "shared" / "data"
    if "HW1_DATA_DIR" not in env and (shared / "regression" / "train_data.csv").is_file():
        env["HW1_DATA_DIR"] = str(shared)
    return env

# A live display that redraws one line (a progress bar) is printed at most
# this often, in seconds; displays that grow (live logs) print each new line.
PROGRESS_REDRAW = 20
PRE_BLOCK = re.compile(r"<pre\b[^>]*>(.*?)</pre>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[^>]+>")


class Progress:
    """Prints what a notebook shows while it runs, as text on a terminal."""

    def __init__(self, name, out=sys.stdout):
        self.name, self.out = name, out
        self.start = time.monotonic()
        self.lines = {}  # display id -> the lines already printed
        self.printed_at = {}  # display id -> when its single line was last printed
        self.cells = 0

    def say(self, text, indent="    "):
        for line in text.rstrip("\n").split("\n"):
            print(indent + line, file=self.out, flush=True)

    def cell_start(self, cell, cell_index, total):
        if cell.cell_type != "code":
            return
        self.cells += 1
        first = next((l.strip() for l in text_of(cell.source).splitlines()
                      if l.strip() and not l.strip().startswith(("//", "%%"))), "")
        if len(first) > 70:
            first = first[:67] + "..."
        elapsed = time.monotonic() - self.start
        print(f"[{self.name} {elapsed:5.0f} s] cell {cell_index + 1}/{total}: {first}", file=self.out, flush=True)

    def message(self, msg):
        kind = msg["msg_type"]
        content = msg.get("content", {})
        if kind == "stream":
            self.say(content.get("text", ""))
        elif kind == "error":
            self.say(f"error {content.get('ename')}: {content.get('evalue')}")
        elif kind in ("display_data", "update_display_data", "execute_result"):
            transient = content.get("transient") or {}
            self.display(content.get("data", {}), transient.get("display_id"), kind == "update_display_data")

    def display(self, data, display_id, update):
        if "text/markdown" in data:
            self.say(text_of(data["text/markdown"]))
            return
        if any(m in data for m in IMAGE_MIMES) or INLINE_IMAGE.search(text_of(data.get("text/html", ""))):
            if not update and not display_id:
                self.say("[figure]")
            elif display_id and display_id not in self.lines:
                self.lines[display_id] = []
                self.say("[live figure]")
            return
        body = text_of(data.get("text/html", "")) or text_of(data.get("text/plain", ""))
        pre = PRE_BLOCK.findall(body)
        text = html.unescape(TAG.sub("", "\n".join(pre) if pre else body))
        new = [l for l in text.split("\n") if l.strip()]
        if not display_id:
            self.say("\n".join(new))
            return
        old = self.lines.get(display_id, [])
        self.lines[display_id] = new
        if len(new) <= 1 and len(old) <= 1:
            # One line redrawn in place: a progress bar.
            now = time.monotonic()
            if new and new != old and now - self.printed_at.get(display_id, -PROGRESS_REDRAW) >= PROGRESS_REDRAW:
                self.printed_at[display_id] = now
                self.say(new[0])
            return
        # A log that keeps its last lines: print what follows the longest
        # overlap between the end of the old text and the start of the new.
        k = min(len(old), len(new))
        while k > 0 and old[-k:] != new[:k]:
            k -= 1
        if new[k:]:
            self.say("\n".join(new[k:]))


def make_client(nb, cell_timeout, path, progress):
    """An nbclient NotebookClient on the GoNB kernel; with progress, one
    that also prints each cell and each message as it arrives."""
    from nbclient import NotebookClient

    class ShowingClient(NotebookClient):
        def process_message(self, msg, cell, cell_index):
            try:
                progress.message(msg)
            except Exception as e:  # showing must never break the run
                print(f"    (progress: {e})", file=sys.stderr)
            return super().process_message(msg, cell, cell_index)

    cls = ShowingClient if progress else NotebookClient
    client = cls(
        nb,
        timeout=cell_timeout,
        kernel_name="gonb",
        resources={"metadata": {"path": str(path.parent)}},
        allow_errors=False,
    )
    if progress:
        total = len(nb.cells)
        client.on_cell_start = lambda cell, cell_index: progress.cell_start(cell, cell_index, total)
    return client


def execute(path, cell_timeout, show=False):
    """Executes one notebook and writes its executed copy, HTML and kernel log.
    Returns (problems, images)."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbconvert import HTMLExporter

    nb = nbformat.read(path, as_version=4)
    EXECUTED.mkdir(parents=True, exist_ok=True)
    stem = path.stem
    log_path = EXECUTED / f"{stem}.kernel.log"
    problems = []
    # The kernel runs in the notebook's folder, as in JupyterLab: the first
    # cell's go.work points at "${GONB_DIR}/..", the repository root.
    client = make_client(nb, cell_timeout, path, Progress(stem) if show else None)
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        try:
            client.execute(stderr=log, stdout=log)
        except CellTimeoutError as e:
            problems.append(f"a cell ran past {cell_timeout} s: {str(e).splitlines()[0]}")
        except CellExecutionError:
            pass  # reported below from the error output itself
        except DeadKernelError as e:
            problems.append(f"kernel died: {e} (see {log_path.relative_to(ROOT)})")
    elapsed = time.monotonic() - start
    problems = failures(nb) + problems
    images = count_images(nb)
    want = EXPECTED.get(path.name, 0)
    if images < want:
        problems.append(f"shows {images} images, expected at least {want}")

    write_atomic(EXECUTED / path.name, nbformat.writes(nb))
    html, _ = HTMLExporter().from_notebook_node(nb)
    write_atomic(EXECUTED / f"{stem}.html", html)
    print(f"{path.name}: {elapsed:.0f} s, {images} images (want >= {want}), "
          f"{'FAIL' if problems else 'ok'}", flush=True)
    return problems, images

# The headline numbers of each task, as summary.json names them.
HEADLINES = {
    "regression": [("best model test MSE", "best_model_test_mse"),
                   ("mean ensemble test MSE", "ensemble_test_mse")],
    "classification": [("best model test accuracy", "best_model_test_accuracy"),
                       ("majority vote test accuracy", "vote_test_accuracy")],
}


def summary_table(out_dir, seconds, wall, exported):
    """The table `make run` ends with: per task, the headline test scores,
    trials run and pruned and the notebook's time (seconds maps a task to
    it), then where everything is."""
    rows = []
    for path in sorted(Path(out_dir).glob("*_results/summary.json")):
        try:
            sm = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            rows.append((path.parent.name, f"unreadable summary.json: {e}", ""))
            continue
        task, metrics, st = sm.get("task", "?"), sm.get("metrics", {}), sm.get("study_stats", {})
        for label, key in HEADLINES.get(task, []):
            v = metrics.get(key)
            rows.append((task, label, "-" if v is None else f"{v:.4f}"))
        rows.append((task, "trials finished (of them pruned), failed",
                     f"{st.get('n_finished', 0)} ({st.get('n_pruned', 0)}), {st.get('n_failed', 0)}"))
        if task in seconds:
            rows.append((task, "notebook wall time", f"{seconds[task]:.0f} s"))
        rows.append((task, "report", str(path.parent / "report.md")))
    rows.append(("both", "wall time", f"{wall:.0f} s"))
    lines = ["", "| task | | |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    if exported:
        lines.append("")
        lines.append("executed notebooks and their HTML exports:")
        lines += [f"  {p}" for p in exported]
    return "\n".join(lines)


def export(paths, to):
    """Copies the executed notebooks and their HTML exports to the folder to."""
    to.mkdir(parents=True, exist_ok=True)
    done = []
    for p in paths:
        for f in (EXECUTED / p.name, EXECUTED / f"{p.stem}.html"):
            if f.is_file():
                shutil.copy2(f, to / f.name)
                done.append(to / f.name)
    return done


def has_outputs(nb):
    return any(c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
               for c in nb.cells)


def strip(path):
    """Removes outputs and execution counts from a notebook, in place."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    if not has_outputs(nb):
        return False
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
            c.execution_count = None
    write_atomic(path, nbformat.writes(nb) + "\n")
    return True


def default_notebooks():
    return [NOTEBOOKS / name for name in EXPECTED]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in EXPECTED")
    ap.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT, help="seconds allowed to one cell")
    ap.add_argument("--progress", action="store_true", help="show each cell and what it prints as it runs")
    ap.add_argument("--summary", action="store_true", help="end with the headline numbers under $HW1_OUT")
    ap.add_argument("--export", type=Path, metavar="DIR", help="copy the executed notebooks and HTML there")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--strip", action="store_true", help="remove outputs in place and exit")
    mode.add_argument("--check-clean", action="store_true", help="fail if a notebook carries outputs")
    mode.add_argument("--list-json", action="store_true", help="print notebooks and expected image counts")
    args = ap.parse_args()
    paths = [p.resolve() for p in args.notebooks] or default_notebooks()

    missing = [p for p in paths if not p.is_file()]
    if missing:
        sys.exit(f"check_notebooks: no such notebook: {', '.join(map(str, missing))}")

    if args.list_json:
        print(json.dumps([{"path": str(p.relative_to(ROOT)), "min_images": EXPECTED.get(p.name, 0)}
                          for p in paths]))
        return
    if args.strip:
        for p in paths:
            if strip(p):
                print(f"stripped {p.relative_to(ROOT)}")
        return
    if args.check_clean:
        import nbformat
        dirty = [p for p in paths if has_outputs(nbformat.read(p, as_version=4))]
        if dirty:
            sys.exit("check_notebooks: outputs committed in " + ", ".join(str(p.relative_to(ROOT)) for p in dirty)
                     + " (run: .venv/bin/python scripts/check_notebooks.py --strip)")
        print(f"{len(paths)} notebooks free of outputs")
        return

    env = kernel_env()
    start = time.monotonic()
    bad = 0
    seconds = {}
    for p in paths:
        t0 = time.monotonic()
        problems, _ = execute(p, args.timeout, show=args.progress)
        seconds.update({task: time.monotonic() - t0 for task in HEADLINES if task in p.stem})
        for msg in problems:
            print(f"  {p.name}: {msg}", file=sys.stderr)
        bad += bool(problems)
    print(f"executed copies, HTML exports and kernel logs in {EXECUTED.relative_to(ROOT)}/")
    exported = export(paths, args.export.resolve()) if args.export else []
    if args.summary:
        print(summary_table(env["HW1_OUT"], seconds, time.monotonic() - start, exported))
    print(f"notebooks: {len(paths) - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
