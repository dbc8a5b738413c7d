import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyAzureError, describeAzureFailure, ResultRejected } from './azure-errors';

const restError = (statusCode: number, extra: object = {}) => ({ name: 'RestError', statusCode, ...extra });

describe('classifying Key Vault failures', () => {
  it.each([
    [429, 'Throttled', true],
    [503, 'ServiceUnavailable', true],
    [500, 'ServerError', true],
    [502, 'ServerError', true],
    [408, 'ServerError', true],
    [401, 'Unauthorized', false],
    [403, 'Forbidden', false],
    [404, 'KeyNotFound', false],
    [400, 'BadParameter', false],
    [409, 'HTTP409', false],
  ])('HTTP %i is %s (retryable: %s)', (status, code, retryable) => {
    expect(classifyAzureError(restError(status), false)).toMatchObject({ code, retryable });
  });

  it("tells a disabled key from a missing permission by Key Vault's innererror code", () => {
    const disabled = restError(403, { details: { error: { code: 'Forbidden', innerError: { code: 'KeyDisabled' } } } });
    expect(classifyAzureError(disabled, false)).toEqual({ code: 'KeyDisabled', retryable: false });
  });

  it('carries Retry-After (seconds) on 429 and 503', () => {
    const headers = { get: (name: string) => (name === 'retry-after' ? '3' : undefined) };
    expect(classifyAzureError(restError(429, { response: { headers } }), false)).toMatchObject({ retryAfterMs: 3000 });
    const dated = { get: () => 'Wed, 21 Oct 2015 07:28:00 GMT' };
    expect(classifyAzureError(restError(503, { response: { headers: dated } }), false)).toEqual({
      code: 'ServiceUnavailable',
      retryable: true,
      retryAfterMs: undefined,
    });
  });

  it('classifies timeouts, network codes, credentials, refused challenges and our own rejections', () => {
    expect(classifyAzureError(new Error('aborted'), true)).toEqual({ code: 'Timeout', retryable: true });
    expect(classifyAzureError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), false)).toEqual({
      code: 'ECONNREFUSED',
      retryable: true,
    });
    expect(classifyAzureError({ name: 'RestError', code: 'REQUEST_SEND_ERROR' }, false)).toEqual({
      code: 'NetworkError',
      retryable: true,
    });
    const credential = Object.assign(new Error('x'), { name: 'CredentialUnavailableError' });
    expect(classifyAzureError(credential, false)).toEqual({ code: 'CredentialFailed', retryable: false });
    const challenge = new Error("The challenge resource 'x' does not match the requested domain.");
    expect(classifyAzureError(challenge, false)).toEqual({ code: 'ChallengeRejected', retryable: false });
    expect(classifyAzureError(new ResultRejected('ContextMismatch'), false)).toEqual({
      code: 'ContextMismatch',
      retryable: false,
    });
    expect(classifyAzureError('???', false)).toEqual({ code: 'UnknownError', retryable: false });
  });

  it('describes every code in words, network codes included', () => {
    expect(describeAzureFailure('Timeout', 250)).toBe('no answer within 250 ms');
    expect(describeAzureFailure('ECONNRESET', 1)).toBe('Key Vault could not be reached (ECONNRESET)');
    expect(describeAzureFailure('HTTP409', 1)).toBe('HTTP409');
  });
});

describe("the README's error table", () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| `azureCode` |')).split('\n\n')[0];
  /** The codes `AzureErrorCode` lists, read from its declaration. */
  const declared = [
    .../export type AzureErrorCode =([^;]*);/
      .exec(readFileSync(join(__dirname, 'azure-errors.ts'), 'utf8'))![1]
      .matchAll(/'(\w+)'/g),
  ].map((match) => match[1]);

  it.each(declared)('names %s', (code) => {
    expect(table).toContain(`\`${code}\``);
  });

  it('names the code of any other HTTP status, as classified', () => {
    const { code } = classifyAzureError(restError(409), false);
    expect(code).toBe('HTTP409');
    expect(table).toContain('`HTTP<status>`');
  });
});
