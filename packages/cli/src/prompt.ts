/**
 * Confirmation of destructive commands: asked only on an interactive terminal; without one
 * the caller must pass `--yes`, so a script can never shred keys by piping input.
 */
import { createInterface } from 'node:readline';
import type { CliIO } from './output';

/** Asks `question` and resolves whether the answer equals `expected` exactly. */
export async function confirmTyped(io: CliIO, question: string, expected: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(question, resolve);
      rl.once('close', () => resolve(''));
    });
    return answer.trim() === expected;
  } finally {
    rl.close();
  }
}
