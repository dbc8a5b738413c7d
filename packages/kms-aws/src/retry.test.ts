import { InvalidArgumentError } from '@hushfield/core';
import { backoffDelay, classifyKmsError, resolveRetryOptions } from './retry';

const awsError = (name: string, status: number): Error =>
  Object.assign(new Error('message from KMS'), { name, $metadata: { httpStatusCode: status } });

describe('KMS retry policy', () => {
  it('retries throttling, server errors, network errors and timeouts', () => {
    expect(classifyKmsError(awsError('ThrottlingException', 400), false)).toEqual({
      code: 'ThrottlingException',
      retryable: true,
    });
    expect(classifyKmsError(awsError('KMSInternalException', 500), false)).toEqual({
      code: 'KMSInternalException',
      retryable: true,
    });
    expect(classifyKmsError(awsError('SomethingNew', 503), false)).toEqual({ code: 'SomethingNew', retryable: true });
    expect(classifyKmsError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), false)).toEqual({
      code: 'ECONNRESET',
      retryable: true,
    });
    expect(
      classifyKmsError(new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:1'), false),
    ).toEqual({ code: 'ECONNREFUSED', retryable: true });
    expect(classifyKmsError(new Error('AWS SDK error wrapper for TimeoutError: socket hang up'), false)).toEqual({
      code: 'ECONNRESET',
      retryable: true,
    });
    expect(classifyKmsError(Object.assign(new Error('aborted'), { name: 'AbortError' }), true)).toEqual({
      code: 'Timeout',
      retryable: true,
    });
  });

  it('does not retry refusals', () => {
    for (const name of [
      'DisabledException',
      'KMSInvalidStateException',
      'InvalidCiphertextException',
      'NotFoundException',
      'AccessDeniedException',
      'IncorrectKeyException',
    ]) {
      expect(classifyKmsError(awsError(name, 400), false)).toEqual({ code: name, retryable: false });
    }
    expect(classifyKmsError(new Error('Region is missing'), false)).toEqual({ code: 'UnknownError', retryable: false });
    expect(classifyKmsError('a string', false)).toEqual({ code: 'UnknownError', retryable: false });
    expect(classifyKmsError(awsError('Bad\nName <script>', 400), false)).toEqual({
      code: 'UnknownError',
      retryable: false,
    });
  });

  it('waits a uniform random share of an exponential, capped ceiling (full jitter)', () => {
    const options = resolveRetryOptions({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.5 });
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(options, retry))).toEqual([50, 100, 200, 400, 500, 500]);
    expect(backoffDelay(resolveRetryOptions({ random: () => 0 }), 3)).toBe(0);
  });

  it('names a bad setting', () => {
    expect(() => resolveRetryOptions({ maxAttempts: 0 })).toThrow(InvalidArgumentError);
    expect(() => resolveRetryOptions({ maxAttempts: 1.5 })).toThrow(
      'retry.maxAttempts must be an integer from 1 to 20',
    );
    expect(() => resolveRetryOptions({ baseDelayMs: 100, maxDelayMs: 50 })).toThrow('retry.maxDelayMs');
  });
});
