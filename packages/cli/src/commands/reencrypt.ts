/**
 * `hushfield reencrypt`: brings every stored value to the current state: legacy plaintext of
 * `migrating` fields encrypted, envelopes moved to their scope's active key version,
 * prisma-field-encryption values imported (`--from-pfe-key`), blind indexes rebuilt.
 */
import type { CommandContext } from '../context';
import type { ExitCodeValue } from '../exit-codes';
import { runBulk } from './bulk-run';
import type { BulkOptions } from './bulk-run';

/** Runs `reencrypt`. */
export function reencryptCommand(ctx: CommandContext, options: BulkOptions): Promise<ExitCodeValue> {
  return runBulk(ctx, 'reencrypt', options);
}
