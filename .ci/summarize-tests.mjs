// Sums the vitest JSON reports of every package into one plain line: "N passed, N failed".
// A package whose tests crashed before reporting counts as one failure, so a red run never reads green.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, testStatus] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const packages = readdirSync('packages').filter((name) => {
  try {
    return Boolean(JSON.parse(readFileSync(join('packages', name, 'package.json'), 'utf8')).scripts?.test);
  } catch {
    return false;
  }
});
for (const name of packages) {
  let report;
  try {
    report = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
  } catch {
    console.error(`no test report from packages/${name}`);
    failed++;
    continue;
  }
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A test file that failed to load has no failed tests but a failed suite.
  for (const file of report.testResults ?? []) {
    const where = String(file.name ?? '').replace(/^.*?(packages\/)/, '$1');
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) {
      failed++;
      failures.push(`${where}: did not load: ${firstLines(file.message)}`);
    }
    for (const test of file.assertionResults ?? []) {
      if (test.status === 'failed') failures.push(`${where} > ${test.fullName ?? test.title}: ${firstLines((test.failureMessages ?? [])[0])}`);
    }
  }
}
// The failed tests come last but one, so the tail of a red CI log names them.
for (const line of failures) console.log(`FAILED ${line}`);
if (failed === 0 && testStatus && testStatus !== '0') failed = 1;
function firstLines(text) {
  return String(text ?? '').split('\n').slice(0, 3).join(' | ').replace(/\x1b\[[0-9;]*m/g, '').slice(0, 600);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
