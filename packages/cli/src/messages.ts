/**
 * The catalog of every message the CLI prints or throws, grouped by command and module. Messages
 * name models, fields, scopes, key ids and versions, row keys, paths, option names, counts and
 * error codes, which are not secret; they never receive a stored value, plaintext, ciphertext,
 * a blind-index value or key material (a `--from-pfe-key` key included), so none can leak
 * through them. An error's own message passed on (`reason`) is one already made safe (see
 * `describeError` in `output.ts`). The groups live in one file per job (`messages-common.ts`,
 * `messages-bulk.ts`, `messages-keys.ts`, `messages-health.ts`) and are put together here, so
 * that every importer keeps using the one `messages` object.
 */
import { bulkMessages } from './messages-bulk';
import { commonMessages } from './messages-common';
import { healthMessages } from './messages-health';
import { keysMessages } from './messages-keys';

export type { BulkSummary } from './messages-bulk';

/** The CLI's messages, by command and module. */
export const messages = {
  ...commonMessages,
  ...bulkMessages,
  ...keysMessages,
  ...healthMessages,
} as const;
