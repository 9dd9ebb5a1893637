import { readFile } from 'node:fs/promises';
import { CliUsageError } from '../runtime.js';

/** A text file a verb reads (a prompt, an evaluation set), with an error that names the flag's file. */
export async function readInputText(file: string, what: string, hint?: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliUsageError(`Cannot read the ${what} file "${file}" (${code ?? (error as Error).message}).`, hint ?? (code === 'ENOENT' ? 'Check the path.' : undefined));
  }
}

/** The prompt file of `--prompt` (`-` reads stdin). */
export async function readPromptFile(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliUsageError(
      `Cannot read the prompt file "${file}" (${code ?? (error as Error).message}).`,
      code === 'ENOENT' ? 'Check the path; pass - to read the prompt from stdin.' : code === 'EISDIR' ? 'Pass a file, not a folder.' : undefined,
    );
  }
}
