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

Other modes, which start no kernel:
  --strip NOTEBOOK...   removes outputs and execution counts in place (the
                        committed notebooks carry none);
  --check-clean         fails if a committed notebook carries outputs;
  --list-json           prints the notebooks and their expected image counts,
                        which tests/browser/check_notebooks.mjs reads.

Usage (from the repository root, with the project venv):
  .venv/bin/python scripts/check_notebooks.py [--timeout SECONDS] [NOTEBOOK...]
"""

import argparse
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


def execute(path, cell_timeout):
    """Executes one notebook and writes its executed copy, HTML and kernel log.
    Returns (problems, images)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbconvert import HTMLExporter

    nb = nbformat.read(path, as_version=4)
    EXECUTED.mkdir(parents=True, exist_ok=True)
    stem = path.stem
    log_path = EXECUTED / f"{stem}.kernel.log"
    problems = []
    # The kernel runs in the notebook's folder, as in JupyterLab: the first
    # cell's go.work points at "${GONB_DIR}/..", the repository root.
    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name="gonb",
        resources={"metadata": {"path": str(path.parent)}},
        allow_errors=False,
    )
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

    kernel_env()
    bad = 0
    for p in paths:
        problems, _ = execute(p, args.timeout)
        for msg in problems:
            print(f"  {p.name}: {msg}", file=sys.stderr)
        bad += bool(problems)
    print(f"executed copies, HTML exports and kernel logs in {EXECUTED.relative_to(ROOT)}/")
    print(f"notebooks: {len(paths) - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
