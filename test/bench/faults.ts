// npm run bench:faults: issue 20's side-by-side. The same faults (test/e2e/faults.ts) injected into
// the stock layout (the distribution's init scripts as lsb: resources, test/e2e/stock-layout.ts)
// and into ours, on one three-controller cluster in one run: ours first, then the layout replaced
// by the stock one. Prints a table, then one machine-readable line per fault and layout:
// `faults FAULT LAYOUT outage_ms=N failed=N sent=N acted_ms=N|never`.
// With the whole fault list (no fault named), it also writes docs/faults.md, one timeline per fault
// (docs/faults/FAULT.svg: the client's requests and the cluster's events, stock above ours) and the
// run itself (docs/faults/run.json), from which `--from docs/faults/run.json` writes them again.
// Usage: node test/bench/faults.ts [FAULT ...] | --from FILE   (measuring: as root, beside no other cluster)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { prepareKeystone, removeKeystone } from '../helpers/daemons/keystone.ts';
import { projectRoot } from '../helpers/agent.ts';
import { ADMIN_PASSWORD, Controllers, packageForNodes } from '../e2e/failover.ts';
import { FAULT_SPECS, FAULTS, faultsLine, figuresOf, runFault, type Fault, type FaultRun } from '../e2e/faults.ts';
import { LAYOUT_TITLES, LAYOUTS, type LayoutName } from '../e2e/stock-layout.ts';
import { RECOMMENDED } from '../e2e/three-layout.ts';
import { timelineSvg } from './timeline.ts';
import { faultCell, faultsDocument } from './faults-doc.ts';

const args = process.argv.slice(2);
// `--from FILE`: the document and pictures written again from a saved run (docs/faults/run.json), nothing measured.
const fromAt = args.indexOf('--from');
const from = fromAt >= 0 ? args.splice(fromAt, 2)[1] : undefined;
const unknown = args.filter((arg) => !(FAULTS as readonly string[]).includes(arg));
if (unknown.length || (fromAt >= 0 && !from)) throw new Error(`unknown arguments ${unknown.join(' ')}: give faults (${FAULTS.join(', ')}) or none for all, or --from FILE`);
const chosen = args.length ? (args as Fault[]) : FAULTS;
const FAULTS_DIR = join(projectRoot, 'docs', 'faults');
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

/** What a whole run keeps (docs/faults/run.json): enough to write the document and pictures again. */
interface SavedRun {
  readonly date: string;
  readonly versions: string;
  readonly machine: string;
  readonly runs: FaultRun[];
}

if (from) {
  const saved = JSON.parse(readFileSync(from, 'utf8')) as SavedRun;
  // The figures made again from the run's requests and events, as this code makes them.
  await writeDocument({ ...saved, runs: saved.runs.map(figuresOf) });
} else {
  await measure();
}

async function measure(): Promise<void> {
  const results = new Map<LayoutName, Map<Fault, FaultRun | Error>>();
  const startedAt = new Date();
  const [built, keystone] = await Promise.all([packageForNodes(), prepareKeystone(ADMIN_PASSWORD)]);
  try {
    log('bringing up three nodes');
    const controllers = await Controllers.start(RECOMMENDED, keystone, built.deb);
    try {
      // Ours first (the cluster comes up with it), then the stock layout in its place.
      for (const layout of ['ours', 'stock'] as const) {
        log(`${layout}: configuring`);
        if (layout === 'ours') await controllers.configure('ours');
        else await controllers.useLayout('stock');
        const runs = new Map<Fault, FaultRun | Error>();
        results.set(layout, runs);
        for (const fault of chosen) {
          log(`${layout}: ${fault}`);
          try {
            const run = await runFault(controllers, layout, fault);
            runs.set(fault, run);
            log(`${faultsLine(run)}; shown: ${run.shown}`);
          } catch (error) {
            runs.set(fault, error as Error);
            log(`${layout}: ${fault} failed: ${(error as Error).message.slice(0, 2000)}\nlogs: ${controllers.cluster.logPlaces()}`);
            // The next fault wants every node and every resource back.
            for (const node of controllers.cluster.nodes.filter((n) => !n.up)) await controllers.cluster.powerOn(node.name).catch(() => undefined);
            await controllers.waitSettled(180_000).catch(() => undefined);
          }
        }
      }
    } finally {
      await controllers.stop();
    }
  } finally {
    removeKeystone(keystone);
    rmSync(built.dir, { recursive: true, force: true });
  }
  const versions = execFileSync(join(projectRoot, 'build', 'versions.sh'), { encoding: 'utf8' }).trim();
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}`;
  const cell = (run: FaultRun | Error | undefined) => (!run ? 'not run' : run instanceof Error ? 'FAILED' : faultCell(run));
  process.stdout.write(`\nOn ${versions}; ${machine}; ${startedAt.toISOString().slice(0, 10)}\n\n`);
  process.stdout.write(`| fault | ${LAYOUTS.map((l) => LAYOUT_TITLES[l]).join(' | ')} |\n|---|---|---|\n`);
  for (const fault of chosen) process.stdout.write(`| ${fault} | ${LAYOUTS.map((l) => cell(results.get(l)?.get(fault))).join(' | ')} |\n`);
  process.stdout.write('\n');
  const done: FaultRun[] = [];
  for (const fault of chosen) {
    for (const layout of LAYOUTS) {
      const run = results.get(layout)?.get(fault);
      if (run && !(run instanceof Error)) {
        done.push(run);
        process.stdout.write(`${faultsLine(run)}; shown: ${run.shown}\n`);
      } else process.stdout.write(`faults ${fault} ${layout} FAILED\n`);
    }
  }
  const failedRuns = chosen.length * LAYOUTS.length - done.length;
  process.exitCode = failedRuns ? 1 : 0;
  // The document and its pictures only from a whole run that finished: never half a table.
  if (args.length) return;
  if (failedRuns) {
    process.stdout.write('\ndocs/faults.md not written: a fault did not finish\n');
    return;
  }
  const saved: SavedRun = { date: startedAt.toISOString().slice(0, 10), versions, machine, runs: done };
  mkdirSync(FAULTS_DIR, { recursive: true });
  writeFileSync(join(FAULTS_DIR, 'run.json'), `${JSON.stringify(saved)}\n`);
  await writeDocument(saved);
}

/** docs/faults.md and docs/faults/FAULT.svg from a whole run. */
async function writeDocument(saved: SavedRun): Promise<void> {
  mkdirSync(FAULTS_DIR, { recursive: true });
  const runs = new Map<Fault, Record<LayoutName, FaultRun>>();
  for (const fault of FAULTS) {
    const pair = LAYOUTS.map((layout) => saved.runs.find((run) => run.fault === fault && run.layout === layout));
    if (pair.some((run) => !run)) throw new Error(`the saved run lacks ${fault} in some layout`);
    runs.set(fault, Object.fromEntries(pair.map((run) => [run!.layout, run!])) as Record<LayoutName, FaultRun>);
  }
  const pictures = new Map<Fault, string>();
  for (const [fault, pair] of runs) {
    const file = `${fault}.svg`;
    writeFileSync(join(FAULTS_DIR, file), await timelineSvg(FAULT_SPECS[fault].title, LAYOUTS.map((layout) => {
      const run = pair[layout];
      return { layout: LAYOUT_TITLES[layout], requests: run.requests, ...(run.tokens ? { tokens: run.tokens } : {}), events: run.events, endMs: run.boundMs + 2000 };
    })));
    pictures.set(fault, `faults/${file}`);
  }
  writeFileSync(join(projectRoot, 'docs', 'faults.md'), faultsDocument({ date: saved.date, versions: saved.versions, machine: saved.machine, runs, pictures }));
  process.stdout.write(`\nwrote docs/faults.md and ${pictures.size} timelines in docs/faults/\n`);
}
