/**
 * KMS key identifiers: parsing ARNs (`arn:<partition>:kms:<region>:<account>:key/<id>` or
 * `...:alias/<name>`) and the multi-Region key (`mrk-`) rule that a replica in another Region
 * has the same id and material, so its ARN differs only by Region.
 */

/** The parts of a KMS ARN. */
export interface KmsArn {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly resourceType: 'key' | 'alias';
  /** Key id (`1234abcd-...` or `mrk-...`) or alias name without the `alias/` prefix. */
  readonly resourceId: string;
}

/** Key ids are UUIDs or `mrk-` + 32 hex digits; alias names use these characters (AWS rules). */
const KEY_ID = /^[A-Za-z0-9-]{1,64}$/;
const ALIAS_NAME = /^[A-Za-z0-9/_-]{1,250}$/;

/** Parses a KMS key or alias ARN; `null` for anything else (bare ids and alias names included). */
export function parseKmsArn(value: string): KmsArn | null {
  if (!value.startsWith('arn:') || value.length > 2048) return null;
  const parts = value.split(':');
  if (parts.length !== 6 || parts[2] !== 'kms' || !parts[1] || !parts[3] || !/^\d{12}$/.test(parts[4])) return null;
  const resource = parts[5];
  const slash = resource.indexOf('/');
  if (slash <= 0 || slash === resource.length - 1) return null;
  const type = resource.slice(0, slash) as KmsArn['resourceType'];
  const id = resource.slice(slash + 1);
  if (type === 'key' ? !KEY_ID.test(id) : type !== 'alias' || !ALIAS_NAME.test(id)) return null;
  return { partition: parts[1], region: parts[3], accountId: parts[4], resourceType: type, resourceId: id };
}

/** Formats an ARN from its parts. */
export function formatKmsArn(arn: KmsArn): string {
  return `arn:${arn.partition}:kms:${arn.region}:${arn.accountId}:${arn.resourceType}/${arn.resourceId}`;
}

/** Whether the ARN names a multi-Region key (its id starts with `mrk-`). */
export function isMultiRegionKey(arn: KmsArn): boolean {
  return arn.resourceType === 'key' && arn.resourceId.startsWith('mrk-');
}

/**
 * The ARN to call `Decrypt` with from a client in `region`: for a multi-Region key the
 * replica in `region` (same id and material), otherwise the ARN unchanged.
 */
export function arnForRegion(keyArn: string, region: string): string {
  const arn = parseKmsArn(keyArn);
  if (region === '' || arn === null || !isMultiRegionKey(arn) || arn.region === region) return keyArn;
  return formatKmsArn({ ...arn, region });
}
