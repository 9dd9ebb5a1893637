// Measures `import("@prompt2model/core")` in fresh Node processes (built dist) against importing zod alone.
// Usage: node --import tsx bench/core-import/run.ts  (after npm run build)
import { execFileSync } from 'node:child_process';

const script = `
const t0 = performance.now();
await import('@prompt2model/core');
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms }));
`;
const runs: number[] = [];
for (let i = 0; i < 7; i++) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  runs.push((JSON.parse(out) as { ms: number }).ms);
}
runs.sort((a, b) => a - b);
const baseline: number[] = [];
for (let i = 0; i < 7; i++) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', "const t0=performance.now(); await import('zod'); console.log(JSON.stringify({ms: performance.now()-t0}))"], { encoding: 'utf8' });
  baseline.push((JSON.parse(out) as { ms: number }).ms);
}
baseline.sort((a, b) => a - b);
const deps = Object.keys((await import('../../packages/core/package.json', { with: { type: 'json' } })).default.dependencies);
console.log(JSON.stringify({ coreImportMsMedian: +runs[3]!.toFixed(1), zodAloneMsMedian: +baseline[3]!.toFixed(1), ratio: +(runs[3]! / baseline[3]!).toFixed(2), runtimeDependencies: deps }));
