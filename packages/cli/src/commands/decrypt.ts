/**
 * `hushfield decrypt`: the way out. For fields switched to `readonly`
 * (`/// @encrypted(mode: readonly)`), writes the plaintext back in place with the same
 * compare-and-swap, batching and checkpoints as `reencrypt`. Blind-index columns are left as
 * they are (drop them in a later migration).
 */
import type { CommandContext } from '../context';
import type { ExitCodeValue } from '../exit-codes';
import { runBulk } from './bulk-run';
import type { BulkOptions } from './bulk-run';

/** Runs `decrypt`. */
export function decryptCommand(ctx: CommandContext, options: BulkOptions): Promise<ExitCodeValue> {
  return runBulk(ctx, 'decrypt', options);
}
