// Start-up cost of the library and the CLI, each in fresh Node processes (built dist):
//   import('@prompt2model/core'), import('zod') alone (baseline), import('prompt2model') (the umbrella),
//   `prompt2model --help` and every verb's `--help` (whole process, wall time), and bare `node -e 0`.
// Usage: node --import tsx bench/core-import/run.ts [--runs 7] [--before /path/to/other/checkout]
// With --before, the same measurements run against another checkout's build (e.g. the code before a
// change), interleaved run by run with this one so both see the same machine load.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const runs = Number(flag('--runs') ?? 7);
const here = resolve(import.meta.dirname, '../..');
const before = flag('--before');
const roots: Array<[string, string]> = [['after', here], ...(before ? ([['before', resolve(before)]] as Array<[string, string]>) : [])];

/** ms to import a module, measured inside a fresh process started in `root`. */
function importMs(root: string, specifier: string): number {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t0);`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }).trim());
}

/** Wall ms of a whole process (Node start-up included). */
function processMs(root: string, argv: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, argv, { cwd: root, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} in ${root} exited ${result.status}: ${result.stderr}`);
  return ms;
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
const record = (label: string, what: string, ms: number) => ((measures[label] ??= {})[what] ??= []).push(ms);
const verbs = Object.fromEntries(roots.map(([label, root]) => [label, verbsOf(root)]));

for (let i = 0; i < runs; i++) {
  record('baseline', 'node -e 0', processMs(here, ['-e', '0']));
  record('baseline', "import('zod')", importMs(here, 'zod'));
  for (const [label, root] of roots) {
    record(label, "import('@prompt2model/core')", importMs(root, '@prompt2model/core'));
    record(label, "import('prompt2model')", importMs(root, 'prompt2model'));
    record(label, 'prompt2model --help', processMs(root, ['packages/prompt2model/bin/prompt2model.js', '--help']));
    const verbHelp: number[] = [];
    for (const verb of verbs[label]!) verbHelp.push(processMs(root, ['packages/prompt2model/bin/prompt2model.js', verb, '--help']));
    record(label, 'slowest verb --help', Math.max(...verbHelp));
  }
}

const result = Object.fromEntries(Object.entries(measures).map(([label, values]) => [label, Object.fromEntries(Object.entries(values).map(([what, list]) => [what, median(list)]))]));
const coreDeps = Object.keys((JSON.parse(readFileSync(resolve(here, 'packages/core/package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
console.log(JSON.stringify({ runs, verbs, medianMs: result, coreRuntimeDependencies: coreDeps }, null, 2));
