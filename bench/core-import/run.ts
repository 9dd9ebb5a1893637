// Start-up cost of the library and the CLI, each in fresh Node processes (built dist):
//   import('@prompt2model/core/internal'), import('zod') alone (baseline), import('prompt2model') (the umbrella),
//   the umbrella again in a process that loaded zod first (the difference is zod's share of the
//   umbrella's import; about 0 when the umbrella does not load zod), `prompt2model --help` and every
//   verb's `--help` (whole process, wall time), and bare `node -e 0`.
// Usage: node --import tsx bench/core-import/run.ts [--runs 7] [--before /path/to/other/checkout] [--imports-only]
// (--imports-only: the import figures alone, no CLI processes, so more runs fit in the same time)
// Prints medians of wall time and of CPU time (user + system; GNU time for whole processes).
// With --before, the same measurements run against another checkout's build (e.g. the code before a
// change), interleaved run by run with this one so both see the same machine load.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const runs = Number(flag('--runs') ?? 7);
const importsOnly = args.includes('--imports-only');
const here = resolve(import.meta.dirname, '../..');
const before = flag('--before');
const roots: Array<[string, string]> = [['after', here], ...(before ? ([['before', resolve(before)]] as Array<[string, string]>) : [])];

interface Timing {
  wall: number;
  /** CPU time (user + system): less sensitive than wall time to other jobs on a shared machine. */
  cpu: number;
}

/** ms to import a module, measured inside a fresh process started in `root` (after importing `preload`, not timed). */
function importMs(root: string, specifier: string, preload?: string): Timing {
  const script = `${preload ? `await import(${JSON.stringify(preload)});` : ''} const t0 = performance.now(); const c0 = process.cpuUsage(); await import(${JSON.stringify(specifier)}); const c = process.cpuUsage(c0); console.log(JSON.stringify({ wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }).trim()) as Timing;
}

/** ms of a whole process (Node start-up included): wall from here, CPU from GNU time when present. */
function processMs(root: string, argv: string[]): Timing {
  const timeBin = '/usr/bin/time';
  const useTime = existsSync(timeBin);
  const started = process.hrtime.bigint();
  const result = useTime
    ? spawnSync(timeBin, ['-f', 'P2M_CPU %U %S', process.execPath, ...argv], { cwd: root, encoding: 'utf8' })
    : spawnSync(process.execPath, argv, { cwd: root, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} in ${root} exited ${result.status}: ${result.stderr}`);
  const cpuLine = /P2M_CPU ([\d.]+) ([\d.]+)/.exec(result.stderr ?? '');
  return { wall, cpu: cpuLine ? (Number(cpuLine[1]) + Number(cpuLine[2])) * 1000 : Number.NaN };
}

function verbsOf(root: string): string[] {
  const help = execFileSync(process.execPath, ['packages/prompt2model/bin/prompt2model.js', '--help'], { cwd: root, encoding: 'utf8' });
  const commands = help.split('Commands:')[1] ?? '';
  return [...commands.matchAll(/^\s{2}([a-z][\w-]*)/gm)].map((match) => match[1]!).filter((verb) => verb !== 'help');
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return +sorted[Math.floor(sorted.length / 2)]!.toFixed(1);
};

const measures: Record<string, Record<string, number[]>> = {};
const record = (label: string, what: string, timing: Timing) => {
  ((measures[label] ??= {})[`${what} (wall)`] ??= []).push(timing.wall);
  if (!Number.isNaN(timing.cpu)) ((measures[label] ??= {})[`${what} (cpu)`] ??= []).push(timing.cpu);
};
const verbs = Object.fromEntries(roots.map(([label, root]) => [label, verbsOf(root)]));

for (let i = 0; i < runs; i++) {
  record('baseline', 'node -e 0', processMs(here, ['-e', '0']));
  record('baseline', "import('zod')", importMs(here, 'zod'));
  for (const [label, root] of roots) {
    record(label, "import('@prompt2model/core/internal')", importMs(root, '@prompt2model/core/internal'));
    record(label, "import('prompt2model')", importMs(root, 'prompt2model'));
    record(label, "import('prompt2model') after zod", importMs(root, 'prompt2model', 'zod'));
    if (importsOnly) continue;
    record(label, 'prompt2model --help', processMs(root, ['packages/prompt2model/bin/prompt2model.js', '--help']));
    const verbHelp: Timing[] = [];
    for (const verb of verbs[label]!) verbHelp.push(processMs(root, ['packages/prompt2model/bin/prompt2model.js', verb, '--help']));
    record(label, 'slowest verb --help', { wall: Math.max(...verbHelp.map((t) => t.wall)), cpu: Math.max(...verbHelp.map((t) => t.cpu)) });
  }
}

const result = Object.fromEntries(Object.entries(measures).map(([label, values]) => [label, Object.fromEntries(Object.entries(values).map(([what, list]) => [what, median(list)]))]));
// zod's share of the umbrella's import: the median of the per-run differences (same run, same load).
for (const [label] of roots) {
  for (const clock of ['wall', 'cpu']) {
    const whole = measures[label]![`import('prompt2model') (${clock})`];
    const afterZod = measures[label]![`import('prompt2model') after zod (${clock})`];
    if (whole && afterZod) result[label]![`zod share of import('prompt2model') (${clock})`] = median(whole.map((value, i) => value - afterZod[i]!));
  }
}
const coreDeps = Object.keys((JSON.parse(readFileSync(resolve(here, 'packages/core/package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
console.log(JSON.stringify({ runs, verbs, medianMs: result, coreRuntimeDependencies: coreDeps }, null, 2));
