import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliRuntime, createProgram } from '../src/program.js';

function captured() {
  let stderr = '';
  const runtime = new CliRuntime({ stdout: () => {}, stderr: (text) => void (stderr += text), isTTY: false, env: {} });
  return { runtime, stderr: () => stderr };
}

const verb = (program: Command, name: string) => program.commands.find((command) => command.name() === name)!;

describe('Ctrl-C notice', () => {
  it('comes from the verb: the demo server says it stops, the run folder verbs say they resume', () => {
    const { runtime } = captured();
    const program = createProgram(runtime);
    expect(runtime.interruptNotice(verb(program, 'run'))).toMatch(/rerun the same command to resume/);
    expect(runtime.interruptNotice(verb(program, 'train'))).toMatch(/resume/);
    expect(runtime.interruptNotice(verb(program, 'demo'))).not.toMatch(/resume/);
    expect(runtime.interruptNotice(verb(program, 'demo'))).toMatch(/demo/);
  });

  it('prints the running verb’s notice on the first interrupt and cancels its signal', async () => {
    const { runtime, stderr } = captured();
    const program = createProgram(runtime);
    let aborted = false;
    const serve = program.command('serve-test').action(
      runtime.action(async () => {
        runtime.interrupt();
        aborted = runtime.signal.aborted;
      }),
    );
    runtime.onInterrupt(serve, 'Stopping the test server.');
    await program.parseAsync(['serve-test'], { from: 'user' });
    expect(aborted).toBe(true);
    expect(stderr()).toContain('Stopping the test server. (Ctrl-C again to force.)');
    expect(stderr()).not.toMatch(/resume/);
  });
});
