import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyGcpError, describeGcpFailure, GcpResponseError } from './gcp-errors';

/** What the REST transport's HTTP client throws for a non-2xx answer (its message is Google's body). */
function restError(status: number, body: unknown) {
  return Object.assign(new Error(JSON.stringify(body)), {
    name: 'GaxiosError',
    status,
    code: status,
    response: { status },
    config: { body: '{"plaintext":"c2VjcmV0"}' },
  });
}

describe('classifyGcpError', () => {
  it('reads the canonical code from a REST error body, telling FAILED_PRECONDITION from INVALID_ARGUMENT', () => {
    const body = (status: string) => ({ error: { code: 400, message: 'x', status } });
    expect(classifyGcpError(restError(400, body('FAILED_PRECONDITION')), false)).toEqual({
      code: 'FAILED_PRECONDITION',
      retryable: false,
    });
    expect(classifyGcpError(restError(400, body('INVALID_ARGUMENT')), false)).toEqual({
      code: 'INVALID_ARGUMENT',
      retryable: false,
    });
    expect(classifyGcpError(restError(503, body('UNAVAILABLE')), false)).toEqual({
      code: 'UNAVAILABLE',
      retryable: true,
    });
  });

  it('maps the HTTP status when the body has no known status', () => {
    expect(classifyGcpError(restError(429, 'not json'), false)).toEqual({
      code: 'RESOURCE_EXHAUSTED',
      retryable: true,
    });
    expect(classifyGcpError(restError(403, { error: { status: 'MADE_UP' } }), false)).toEqual({
      code: 'PERMISSION_DENIED',
      retryable: false,
    });
    expect(classifyGcpError(restError(502, ''), false)).toEqual({ code: 'INTERNAL', retryable: true });
  });

  it('reads gRPC status codes, network codes, timeouts and integrity failures', () => {
    expect(classifyGcpError(Object.assign(new Error('x'), { code: 14 }), false)).toEqual({
      code: 'UNAVAILABLE',
      retryable: true,
    });
    expect(classifyGcpError(Object.assign(new Error('x'), { code: 9 }), false)).toEqual({
      code: 'FAILED_PRECONDITION',
      retryable: false,
    });
    expect(classifyGcpError(Object.assign(new Error('x'), { code: 4 }), false).retryable).toBe(true);
    expect(classifyGcpError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), false)).toEqual({
      code: 'ECONNREFUSED',
      retryable: true,
    });
    expect(classifyGcpError(new Error('aborted'), true)).toEqual({ code: 'Timeout', retryable: true });
    expect(classifyGcpError(new GcpResponseError('ChecksumMismatch', 'x'), false).retryable).toBe(true);
    expect(classifyGcpError(new GcpResponseError('UnexpectedResponse', 'x'), false).retryable).toBe(false);
    expect(classifyGcpError('weird', false)).toEqual({ code: 'UNKNOWN', retryable: false });
  });
});

describe('describeGcpFailure', () => {
  it('words every code without the service text', () => {
    expect(describeGcpFailure('FAILED_PRECONDITION', 5000)).toContain('not enabled');
    expect(describeGcpFailure('Timeout', 250)).toBe('no answer within 250 ms');
    expect(describeGcpFailure('ECONNRESET', 1)).toBe('Cloud KMS could not be reached (ECONNRESET)');
    expect(describeGcpFailure('ABORTED', 1)).toBe('Cloud KMS answered ABORTED');
  });
});

describe("the README's error table", () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| Code | When | Retried |')).split('\n\n')[0];
  // gRPC status codes 1 to 16 (0 is OK), the keyring's own timeout, and the response checks.
  const codes = [
    ...Array.from({ length: 16 }, (_, index) => classifyGcpError({ code: index + 1 }, false).code),
    classifyGcpError(new Error('aborted'), true).code,
    ...(['ChecksumMismatch', 'ChecksumUnverified', 'UnexpectedResponse'] as const).map(
      (gcpCode) => classifyGcpError(new GcpResponseError(gcpCode, 'reason'), false).code,
    ),
  ];

  it.each(codes)('names %s', (code) => {
    expect(table).toContain(`\`${code}\``);
  });
});
