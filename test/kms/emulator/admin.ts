/**
 * A small administration client for a KMS endpoint (this emulator or LocalStack), speaking the
 * JSON 1.1 protocol over `fetch`. Tests use it to create, alias, rotate, disable and delete
 * keys; the code under test uses the real `@aws-sdk/client-kms`. The signature is a
 * placeholder: neither the emulator nor LocalStack verify it, and this must never be pointed
 * at real AWS.
 */

/** Where to send requests. */
export interface KmsTarget {
  readonly endpoint: string;
  readonly region: string;
}

/** An AWS error answered by the endpoint. */
export class KmsAdminError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(`${type}: ${message}`);
    this.name = 'KmsAdminError';
  }
}

/** What {@link KmsAdmin.createKey} returns. */
export interface CreatedKey {
  readonly keyId: string;
  readonly arn: string;
}

/** Key administration over the KMS JSON protocol. */
export interface KmsAdmin {
  createKey(options?: { description?: string; multiRegion?: boolean }): Promise<CreatedKey>;
  createAlias(aliasName: string, targetKeyId: string): Promise<void>;
  updateAlias(aliasName: string, targetKeyId: string): Promise<void>;
  describeKey(keyId: string): Promise<{ keyId: string; arn: string; keyState: string }>;
  enableKeyRotation(keyId: string): Promise<void>;
  rotateKeyOnDemand(keyId: string): Promise<void>;
  disableKey(keyId: string): Promise<void>;
  enableKey(keyId: string): Promise<void>;
  scheduleKeyDeletion(keyId: string, pendingWindowInDays?: number): Promise<void>;
  /** Any other operation, raw. */
  call(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** An administration client for `target`. */
export function kmsAdmin(target: KmsTarget): KmsAdmin {
  const call = async (operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const response = await fetch(target.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `TrentService.${operation}`,
        authorization:
          `AWS4-HMAC-SHA256 Credential=test/20250101/${target.region}/kms/aws4_request, ` +
          'SignedHeaders=content-type;host;x-amz-target, Signature=0',
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok) {
      const type = String(parsed.__type ?? 'UnknownError')
        .split('#')
        .pop() as string;
      throw new KmsAdminError(type, String(parsed.message ?? parsed.Message ?? ''), response.status);
    }
    return parsed;
  };
  const metadata = (result: Record<string, unknown>): Record<string, unknown> =>
    result.KeyMetadata as Record<string, unknown>;

  return {
    call,
    async createKey(options = {}) {
      const result = metadata(
        await call('CreateKey', {
          Description: options.description ?? 'hushfield test key',
          KeyUsage: 'ENCRYPT_DECRYPT',
          KeySpec: 'SYMMETRIC_DEFAULT',
          MultiRegion: options.multiRegion ?? false,
        }),
      );
      return { keyId: String(result.KeyId), arn: String(result.Arn) };
    },
    async createAlias(aliasName, targetKeyId) {
      await call('CreateAlias', { AliasName: aliasName, TargetKeyId: targetKeyId });
    },
    async updateAlias(aliasName, targetKeyId) {
      await call('UpdateAlias', { AliasName: aliasName, TargetKeyId: targetKeyId });
    },
    async describeKey(keyId) {
      const result = metadata(await call('DescribeKey', { KeyId: keyId }));
      return { keyId: String(result.KeyId), arn: String(result.Arn), keyState: String(result.KeyState) };
    },
    async enableKeyRotation(keyId) {
      await call('EnableKeyRotation', { KeyId: keyId });
    },
    async rotateKeyOnDemand(keyId) {
      await call('RotateKeyOnDemand', { KeyId: keyId });
    },
    async disableKey(keyId) {
      await call('DisableKey', { KeyId: keyId });
    },
    async enableKey(keyId) {
      await call('EnableKey', { KeyId: keyId });
    },
    async scheduleKeyDeletion(keyId, pendingWindowInDays = 7) {
      await call('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: pendingWindowInDays });
    },
  };
}
