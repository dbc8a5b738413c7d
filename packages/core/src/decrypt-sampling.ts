/**
 * Sampling of per-value decrypt audit events (`auditDecrypts`): off by default; `true` audits
 * every value; `{ sample: 0.01 }` audits about 1 % of successful decrypts (each event says
 * `sampleRate`, so counts scale back) and every failure.
 */
import { needs } from './preconditions';

/** The `auditDecrypts` option of `FieldCrypto`. */
export type AuditDecryptsOption = boolean | { readonly sample: number };

/**
 * The fraction of successful decrypts to audit: 0 (off), 1 (all), or the sample rate.
 * @throws InvalidArgumentError when `sample` is not a number in (0, 1]
 */
export function decryptSampleRate(option: AuditDecryptsOption | undefined): number {
  if (option === undefined || option === false) return 0;
  if (option === true) return 1;
  const sample = (option as { sample?: unknown } | null)?.sample;
  needs(
    typeof sample === 'number' && sample > 0 && sample <= 1,
    'options.auditDecrypts.sample',
    'must be a number greater than 0 and at most 1',
  );
  return sample;
}

/** Whether this decrypt is audited at `rate` (not a security decision: `Math.random` suffices). */
export function sampled(rate: number): boolean {
  return rate >= 1 || (rate > 0 && Math.random() < rate);
}
