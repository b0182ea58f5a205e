// Browser check of the notebooks: what a user sees in JupyterLab.
//
// Starts JupyterLab from the project venv on 127.0.0.1 (a free port, a fresh
// token, a throw-away settings folder), opens each notebook in Debian's
// Chromium through playwright-core, runs all cells from the Run menu, waits for
// the last cell to finish, and checks that no cell failed and that the images
// the notebook must show are loaded in the page. A screenshot of each notebook
// goes to notebooks/.executed/<name>.png (the first 16,000 pixels, Chromium's
// limit; <name>-end.png shows the end of a longer one). JupyterLab is stopped
// at the end, pass or fail.
//
// The notebooks and their expected image counts come from
// scripts/check_notebooks.py --list-json, the one place for them.
//
// Usage, from the repository root: node tests/browser/check_notebooks.mjs [NOTEBOOK...]
// Environment: HW1_PRESET (default smoke), HW1_OUT (default a fresh
// notebooks/.executed/browser-out), CHROMIUM (default /usr/bin/chromium),
// HW1_CELL_TIMEOUT_S (default 900: a notebook may run that long per code cell).

import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, openSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const venv = join(root, ".venv", "bin");
const outDir = join(root, "notebooks", ".executed");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const cellTimeoutMs = 1000 * Number(process.env.HW1_CELL_TIMEOUT_S || 900);

function log(msg) {
  console.log(`browser: ${msg}`);
}

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");

// settingsDir writes JupyterLab user settings for the check: no autosave (the
// run must never write outputs into the committed notebooks), every cell kept
// in the page (so images below the fold can be counted and screenshotted), and
// no news or update checks (no network, no pop-ups over the screenshot).
function settingsDir(base) {
  const dir = join(base, "lab-settings");
  const put = (plugin, file, value) => {
    mkdirSync(join(dir, plugin), { recursive: true });
    writeFileSync(join(dir, plugin, file), JSON.stringify(value));
  };
  put("@jupyterlab/docmanager-extension", "plugin.jupyterlab-settings", { autosave: false });
  put("@jupyterlab/notebook-extension", "tracker.jupyterlab-settings", { windowingMode: "none" });
  put("@jupyterlab/apputils-extension", "notification.jupyterlab-settings", {
    fetchNews: "false",
    checkForUpdates: false,
  });
  return dir;
}

async function startLab(base) {
  const port = await freePort();
  const token = randomBytes(24).toString("hex");
  const env = {
    ...process.env,
    HW1_PRESET: process.env.HW1_PRESET || "smoke",
    JUPYTERLAB_SETTINGS_DIR: settingsDir(base),
    JUPYTERLAB_WORKSPACES_DIR: join(base, "workspaces"),
  };
  // A fresh results folder: a study left by an earlier run would be resumed,
  // and the check would then train nothing.
  if (!env.HW1_OUT) {
    env.HW1_OUT = join(outDir, "browser-out");
    rmSync(env.HW1_OUT, { recursive: true, force: true });
  }
  const shared = resolve(root, "..", "shared", "data");
  if (!env.HW1_DATA_DIR && existsSync(join(shared, "regression", "train_data.csv"))) {
    env.HW1_DATA_DIR = shared;
  }
  const logPath = join(outDir, "jupyterlab.log");
  const logFd = openSync(logPath, "w");
  const proc = spawn(
    join(venv, "jupyter"),
    [
      "lab",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${root}`,
      "--LabApp.news_url=None",
      "--LabApp.expose_app_in_browser=True",
      "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
      // No PyPI queries for extensions, no terminals: the check needs neither.
      "--LabApp.extension_manager=readonly",
      "--ServerApp.terminals_enabled=False",
      ...(process.getuid && process.getuid() === 0 ? ["--allow-root"] : []),
    ],
    { cwd: root, env, stdio: ["ignore", logFd, logFd] },
  );
  let exited = null;
  proc.on("exit", (code) => (exited = code));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    if (exited !== null) throw new Error(`JupyterLab exited with ${exited}; see ${logPath}`);
    try {
      const r = await fetch(`${url}/api/status?token=${token}`);
      if (r.ok) return { proc, url, token, logPath };
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  proc.kill("SIGTERM");
  throw new Error(`JupyterLab did not answer on ${url} within 60 s; see ${logPath}`);
}

async function stopLab(lab) {
  if (lab.proc.exitCode !== null) return;
  const exited = new Promise((r) => lab.proc.once("exit", r));
  try {
    // The API shutdown also stops the kernels it started.
    await fetch(`${lab.url}/api/shutdown?token=${lab.token}`, { method: "POST" });
  } catch {
    // fall through to the signal
  }
  const timer = setTimeout(() => lab.proc.kill("SIGTERM"), 15000);
  await exited;
  clearTimeout(timer);
}

// runNotebook opens one notebook, runs all its cells and returns what it saw.
async function runNotebook(context, lab, nbPath, minImages) {
  const page = await context.newPage();
  page.setDefaultTimeout(120000);
  const name = basename(nbPath, ".ipynb");
  await page.goto(`${lab.url}/lab/tree/${nbPath}?token=${lab.token}&reset`);
  const notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook");
  await notebook.waitFor();
  // Wait for the notebook's GoNB kernel to be connected (GoNB publishes no
  // status until its first request, so "unknown" counts). JupyterLab sometimes asks
  // which kernel to start (when the kernel specs load after the notebook):
  // accept its proposal, the notebook's own kernelspec.
  const kernelDeadline = Date.now() + 180000;
  for (;;) {
    const k = await page.evaluate(() => {
      const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
      const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
      return kernel ? { name: kernel.name, status: kernel.status, conn: kernel.connectionStatus } : null;
    });
    if (k && k.conn === "connected" && (k.status === "idle" || k.status === "unknown")) {
      if (k.name !== "gonb") throw new Error(`${name}: kernel ${k.name} started, want gonb`);
      break;
    }
    const accept = page.locator(".jp-Dialog .jp-mod-accept");
    if (await accept.isVisible()) await accept.click();
    if (Date.now() > kernelDeadline) throw new Error(`${name}: the GoNB kernel was not connected within 180 s`);
    await sleep(500);
  }
  const nCode = await page.evaluate(() => {
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    let n = 0;
    for (let i = 0; i < cells.length; i++) n += cells.get(i).type === "code";
    return n;
  });
  const started = Date.now();
  await page.getByRole("menuitem", { name: "Run", exact: true }).click();
  await page.getByRole("menuitem", { name: /^Run All Cells/ }).click();

  // Done when every code cell's prompt holds a number: "[*]" means running,
  // "[ ]" queued. A failed cell stops the queue, so stop waiting on an error.
  const deadline = started + cellTimeoutMs * Math.max(nCode, 1);
  let state;
  for (;;) {
    state = await page.evaluate(() => {
      const nb = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook");
      const prompts = [...nb.querySelectorAll(".jp-CodeCell .jp-InputArea-prompt")].map((p) => p.textContent.trim());
      return { prompts };
    });
    const done = state.prompts.length === nCode && state.prompts.every((p) => /\[\d+\]/.test(p));
    const busy = state.prompts.some((p) => p.includes("*"));
    if (done || (!busy && Date.now() - started > 5000)) break;
    if (Date.now() > deadline) throw new Error(`${name}: cells still running after ${(deadline - started) / 1000} s`);
    await sleep(1000);
  }
  const elapsed = (Date.now() - started) / 1000;

  // Images shown: <img> loaded with a real size, or inline <svg>, inside outputs.
  const images = await page.evaluate(() => {
    const nb = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook");
    const imgs = [...nb.querySelectorAll(".jp-OutputArea-output img")].filter((i) => i.complete && i.naturalWidth > 0);
    const svgs = [...nb.querySelectorAll(".jp-OutputArea-output svg")].filter((s) => s.getBoundingClientRect().width > 50);
    return imgs.length + svgs.length;
  });
  // Cells whose outputs hold an error (GoNB reports failed builds and runs so),
  // read from the notebook model (JupyterLab runs with --expose-app-in-browser).
  const errorCells = await page.evaluate(() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = panel.content.model.cells;
    const bad = [];
    for (let i = 0; i < cells.length; i++) {
      const c = cells.get(i);
      if (c.type !== "code") continue;
      for (let j = 0; j < c.outputs.length; j++) {
        if (c.outputs.get(j).type === "error") bad.push(i);
      }
    }
    return bad;
  });

  // Screenshot of the whole notebook: grow the window to the notebook's height
  // (capped), since JupyterLab scrolls inside its panel, not the page.
  const height = await page.evaluate(() => {
    const scroller = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer")
      || document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook");
    return scroller.scrollHeight;
  });
  await page.setViewportSize({ width: 1280, height: Math.min(Math.max(height + 200, 900), 16000) });
  await sleep(1000);
  // Run All leaves the notebook scrolled to its last cell: start from the top.
  await page.evaluate(() => {
    const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)");
    for (const el of panel.querySelectorAll(".jp-WindowedPanel-outer, .jp-Notebook")) el.scrollTop = 0;
  });
  await sleep(1000);
  const shot = join(outDir, `${name}.png`);
  await page.screenshot({ path: shot });
  if (height + 200 > 16000) {
    // Taller than one screenshot can be: a second one shows the end.
    // Align the last cell with the bottom (the notebook pads its end with
    // blank space as tall as the window, so scrolling to the end shows none).
    await page.evaluate(() => {
      const cells = document.querySelectorAll(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell");
      cells[cells.length - 1].scrollIntoView({ block: "end" });
    });
    await sleep(1000);
    await page.screenshot({ path: join(outDir, `${name}-end.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  const problems = [];
  if (!state.prompts.every((p) => /\[\d+\]/.test(p))) problems.push(`not every cell ran: prompts ${state.prompts.join(" ")}`);
  if (errorCells.length) problems.push(`error output in code cells ${errorCells.join(", ")}`);
  if (images < minImages) problems.push(`shows ${images} images, expected at least ${minImages}`);
  log(`${nbPath}: ${elapsed.toFixed(0)} s, ${nCode} code cells, ${images} images (want >= ${minImages}), screenshot ${shot}, ${problems.length ? "FAIL" : "ok"}`);
  await page.close();
  return problems;
}

async function main() {
  const args = process.argv.slice(2);
  const list = JSON.parse(
    execFileSync(join(venv, "python"), [join(root, "scripts", "check_notebooks.py"), "--list-json", ...args], { cwd: root, encoding: "utf8" }),
  );
  mkdirSync(outDir, { recursive: true });
  const base = mkdtempSync(join(tmpdir(), "hw1-browser-"));
  const before = Object.fromEntries(list.map((n) => [n.path, readFileSync(join(root, n.path))]));
  let lab, context;
  let failed = 0;
  let modified = 0;
  try {
    lab = await startLab(base);
    log(`JupyterLab on ${lab.url} (log ${lab.logPath})`);
    context = await chromium.launchPersistentContext(join(base, "chromium-profile"), {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    for (const nb of list) {
      let problems;
      try {
        problems = await runNotebook(context, lab, nb.path, nb.min_images);
      } catch (e) {
        problems = [String(e.message || e).split("\n")[0]];
      }
      for (const p of problems) console.error(`  ${nb.path}: ${p}`);
      failed += problems.length > 0;
    }
  } finally {
    if (context) await context.close().catch(() => {});
    if (lab) await stopLab(lab);
    rmSync(base, { recursive: true, force: true });
    // Autosave is off; should a notebook still have been written, put it back.
    for (const [path, content] of Object.entries(before)) {
      if (Buffer.compare(readFileSync(join(root, path)), content) !== 0) {
        writeFileSync(join(root, path), content);
        console.error(`  ${path}: JupyterLab modified the notebook; restored it`);
        modified++;
      }
    }
  }
  console.log(`browser: ${list.length - failed} passed, ${failed} failed`);
  process.exitCode = failed || modified ? 1 : 0;
}

main().catch((e) => {
  console.error(`browser: ${e.stack || e}`);
  process.exitCode = 1;
});
