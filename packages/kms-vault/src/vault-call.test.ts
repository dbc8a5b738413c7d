import { classifyResponse, classifyThrown } from './vault-call';

describe('Vault failure classification', () => {
  it("reads status first, then Vault's error strings", () => {
    expect(classifyResponse(503, { errors: ['Vault is sealed'] })).toBe('Sealed');
    expect(classifyResponse(503, { errors: [] })).toBe('Unavailable');
    expect(classifyResponse(429, { errors: ['request path "transit/encrypt/k": rate limit quota exceeded'] })).toBe(
      'Throttled',
    );
    expect(classifyResponse(500, { errors: ['internal error'] })).toBe('ServerError');
    expect(classifyResponse(403, { errors: ['permission denied'] })).toBe('PermissionDenied');
    expect(
      classifyResponse(400, { errors: ['ciphertext or signature version is disallowed by policy (too old)'] }),
    ).toBe('KeyVersionRetired');
    expect(classifyResponse(400, { errors: ['cipher: message authentication failed'] })).toBe('InvalidCiphertext');
    expect(
      classifyResponse(400, {
        errors: ["missing 'context' for key derivation; the key was created using a derived key"],
      }),
    ).toBe('ContextRequired');
    expect(
      classifyResponse(400, { errors: ['requested version for encryption is higher than the latest key version'] }),
    ).toBe('KeyVersionInvalid');
    expect(classifyResponse(400, { errors: ['encryption key not found'] })).toBe('KeyNotFound');
    expect(classifyResponse(400, undefined)).toBe('BadRequest');
    expect(classifyResponse(307, undefined)).toBe('Redirected');
    expect(classifyResponse(308, { errors: [] })).toBe('Redirected');
    // A 400 whose text mentions a retryable condition stays final.
    expect(classifyResponse(400, { errors: ['rate limit'] })).toBe('BadRequest');
  });

  it('tells our timeout from a network failure', () => {
    expect(classifyThrown(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe('Timeout');
    expect(classifyThrown(new TypeError('fetch failed'))).toBe('NetworkError');
  });
});
