import { describe, expect, it } from 'vitest';
import { runCliCaptured } from './support/run-cli.js';

function run(argv: string[]) {
  return runCliCaptured(argv);
}

describe('prompt2model CLI skeleton', () => {
  it('prints help with the global flags and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--out', '--teacher', '--base-url', '--max-cost', '--json', '--verbose']) expect(stdout).toContain(flag);
  });

  it('prints the version', async () => {
    const { code, stdout } = await run(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects an unknown verb on stderr with a usage exit code', async () => {
    const { code, stderr, stdout } = await run(['no-such-verb']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown command|too many arguments/i);
    expect(stdout).toBe('');
  });

  it('rejects a malformed --max-cost with a clear message', async () => {
    const { code, stderr } = await run(['--max-cost', 'lots', '--help']);
    expect(code).toBe(2);
    expect(stderr).toContain('--max-cost must be a number');
  });
});
