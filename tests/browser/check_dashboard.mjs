// Browser check of optuna-dashboard on a study written by hw1: what a user sees after
// `make dashboard STUDY=...`.
//
// Runs `bin/hw1 regression --preset smoke --backend go` into a fresh folder (or takes the
// journal given), starts optuna-dashboard from the project venv on 127.0.0.1 (a free port)
// on the study's journal, opens it in Debian's Chromium through playwright-core, and checks
// against the journal itself (read here, the way Optuna's replay reads it):
//   - the study list shows the study;
//   - the study's page draws the optimization history with one point per complete or pruned
//     trial, at their numbers;
//   - the trials table (the Smart Selection page) lists every trial of the journal, with its
//     number and state.
// Screenshots: notebooks/.executed/dashboard.png (the Smart Selection page: history and trials
// table) and dashboard-history.png (the study's top page). The dashboard is stopped at the end,
// pass or fail.
//
// Usage, from the repository root: node tests/browser/check_dashboard.mjs [JOURNAL]
// Environment: CHROMIUM (default /usr/bin/chromium), HW1_DATA_DIR (default ../shared/data when
// it holds the course's data).

import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = join(root, "notebooks", ".executed");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

function log(msg) {
  console.log(`dashboard: ${msg}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

// smokeStudy runs the smoke preset of the regression task and returns its journal.
function smokeStudy(base) {
  const env = { ...process.env };
  const shared = resolve(root, "..", "shared", "data");
  if (!env.HW1_DATA_DIR && existsSync(join(shared, "regression", "train_data.csv"))) env.HW1_DATA_DIR = shared;
  const out = join(base, "out");
  const args = ["regression", "--preset", "smoke", "--backend", "go", "--out", out];
  try {
    execFileSync(join(root, "bin", "hw1"), args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (e) {
    throw new Error(`bin/hw1 ${args.join(" ")} failed (${e.status ?? e.message}): ${String(e.stderr || "").trim().split("\n").slice(-3).join(" / ")}`);
  }
  return join(out, "regression_smoke_results", "study.journal");
}

// readJournal replays a journal of Optuna's JournalStorage format as Optuna does, far enough
// to know each study's trials: studies by their CREATE_STUDY lines (a name taken again is
// ignored), trial_ids over the file, numbers per study, a WAITING trial started once, a
// finished trial never changed.
function readJournal(path) {
  const states = ["Running", "Complete", "Pruned", "Fail", "Waiting"];
  const studies = [];
  const trials = []; // by trial_id: { study, number, state }
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    // Python writes NaN and Infinity bare; they never matter here.
    const op = JSON.parse(line.replace(/\bNaN\b|-?\bInfinity\b/g, "null"));
    if (op.op_code === undefined) throw new Error(`${path} is not in Optuna's JournalStorage format (hw1's first format? opening it with hw1 converts it)`);
    switch (op.op_code) {
      case 0:
        if (!studies.some((s) => s.name === op.study_name && !s.deleted)) studies.push({ name: op.study_name, trials: [] });
        break;
      case 1:
        if (studies[op.study_id]) studies[op.study_id].deleted = true;
        break;
      case 4: {
        const s = studies[op.study_id];
        if (!s || s.deleted) break;
        const t = { study: op.study_id, number: s.trials.length, state: states[op.state ?? 0] };
        s.trials.push(t);
        trials.push(t);
        break;
      }
      case 6: {
        const t = trials[op.trial_id];
        if (!t || t.state === "Complete" || t.state === "Pruned" || t.state === "Fail") break;
        if (op.state === 0 && t.state !== "Waiting") break; // started already: the first start wins
        t.state = states[op.state];
        break;
      }
    }
  }
  return studies.map((s, id) => ({ ...s, id })).filter((s) => !s.deleted);
}

async function startDashboard(journal, logPath) {
  const port = await freePort();
  const logFd = openSync(logPath, "w");
  const proc = spawn(join(root, ".venv", "bin", "optuna-dashboard"), ["--host", "127.0.0.1", "--port", String(port), journal], {
    cwd: root,
    stdio: ["ignore", logFd, logFd],
  });
  let exited = null;
  proc.on("exit", (code) => (exited = code));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    if (exited !== null) throw new Error(`optuna-dashboard exited with ${exited}; see ${logPath}`);
    try {
      const r = await fetch(`${url}/api/studies`);
      if (r.ok) return { proc, url };
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  proc.kill("SIGTERM");
  throw new Error(`optuna-dashboard did not answer on ${url} within 60 s; see ${logPath}`);
}

async function stopDashboard(d) {
  if (d.proc.exitCode !== null || d.proc.signalCode !== null) return;
  const exited = new Promise((r) => d.proc.once("exit", r));
  d.proc.kill("SIGTERM");
  const timer = setTimeout(() => d.proc.kill("SIGKILL"), 10000);
  await exited;
  clearTimeout(timer);
}

// checkStudy opens the study's pages and returns the problems found.
async function checkStudy(page, url, study) {
  const problems = [];
  const want = study.trials.map((t) => `${t.number} ${t.state}`);
  const plotted = study.trials.filter((t) => t.state === "Complete" || t.state === "Pruned").map((t) => t.number);

  // The study list.
  await page.goto(`${url}/dashboard`);
  try {
    await page.getByText(`${study.id}. ${study.name}`, { exact: true }).waitFor({ timeout: 30000 });
  } catch {
    problems.push(`the study list does not show "${study.id}. ${study.name}"`);
  }

  // The optimization history on the study's page: one marker per complete or pruned trial.
  await page.goto(`${url}/dashboard/studies/${study.id}`);
  await page.locator("#plot-history .scatterlayer .trace path.point").first().waitFor({ timeout: 60000 }).catch(() => {});
  await sleep(1500); // the other plots of the page settle before the screenshot
  const history = await page.evaluate(() => {
    const plot = document.querySelector("#plot-history");
    if (!plot || !plot.data) return null;
    const objective = plot.data.find((d) => d.mode === "markers" && (d.x || []).length > 0);
    return {
      x: objective ? [...objective.x] : [],
      drawn: plot.querySelectorAll(".scatterlayer .trace path.point").length,
    };
  });
  await page.screenshot({ path: join(outDir, "dashboard-history.png"), fullPage: true });
  if (!history) {
    problems.push("the study's page draws no optimization history (#plot-history)");
  } else {
    const x = history.x.map(Number).sort((a, b) => a - b);
    if (JSON.stringify(x) !== JSON.stringify(plotted) || history.drawn !== plotted.length) {
      problems.push(`the history plots trials [${x}] (${history.drawn} markers drawn), the journal's complete and pruned trials are [${plotted}]`);
    }
  }

  // The trials table, on the Smart Selection page, all rows on one page.
  await page.goto(`${url}/dashboard/studies/${study.id}/smartSelection`);
  const table = page.locator("table").filter({ hasText: "Number" }).last();
  await table.waitFor({ timeout: 60000 });
  // The table's own pagination is the page's last (the page may hold other tables).
  const pagination = page.locator(".MuiTablePagination-displayedRows").last();
  if (study.trials.length > 5) {
    await page.locator('select[aria-label="rows per page"]').last().selectOption({ label: "All" });
  }
  await page.waitForFunction(
    (n) => {
      const tables = [...document.querySelectorAll("table")].filter((t) => t.innerText.includes("Number"));
      const t = tables[tables.length - 1];
      return t && t.tBodies[0] && t.tBodies[0].rows.length >= n;
    },
    study.trials.length,
    { timeout: 30000 },
  );
  const rows = await table.evaluate((t) =>
    [...t.tBodies[0].rows].map((r) => [...r.cells].slice(0, 2).map((c) => c.innerText.trim()).join(" ")),
  );
  const shown = await pagination.innerText().catch(() => "");
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.screenshot({ path: join(outDir, "dashboard.png"), fullPage: true });
  const sorted = (xs) => [...xs].sort((a, b) => parseInt(a) - parseInt(b));
  if (JSON.stringify(sorted(rows)) !== JSON.stringify(want)) {
    problems.push(`the trials table lists [${sorted(rows).join(", ")}], the journal holds [${want.join(", ")}]`);
  }
  if (!shown.endsWith(`of ${study.trials.length}`)) problems.push(`the trials table says "${shown}", the journal holds ${study.trials.length} trials`);
  log(`study "${study.name}": ${study.trials.length} trials in the journal; history plots ${history ? history.x.length : 0}, table lists ${rows.length} (${shown})`);
  return problems;
}

async function main() {
  mkdirSync(outDir, { recursive: true });
  const base = mkdtempSync(join(tmpdir(), "hw1-dashboard-"));
  let dashboard, browser;
  const problems = [];
  try {
    const journal = process.argv[2] ? resolve(process.argv[2]) : smokeStudy(base);
    const studies = readJournal(journal);
    if (studies.length === 0) throw new Error(`${journal} holds no study`);
    log(`journal ${journal}: ${studies.map((s) => `"${s.name}" (${s.trials.length} trials)`).join(", ")}`);
    dashboard = await startDashboard(journal, join(outDir, "optuna-dashboard.log"));
    log(`optuna-dashboard on ${dashboard.url}`);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(60000);
    for (const study of studies) problems.push(...(await checkStudy(page, dashboard.url, study)));
  } catch (e) {
    problems.push(String(e.message || e).split("\n")[0]);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (dashboard) await stopDashboard(dashboard);
    rmSync(base, { recursive: true, force: true });
  }
  for (const p of problems) console.error(`  ${p}`);
  console.log(`dashboard: ${problems.length ? "FAIL" : "ok"}, screenshot ${join(outDir, "dashboard.png")}`);
  process.exitCode = problems.length ? 1 : 0;
}

main();
