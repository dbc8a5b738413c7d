import { PassThrough } from 'node:stream';
import { ConfigError } from '@hushfield/core';
import { Output, describeError, isHushfieldError } from './output';

test('describes a Prisma error by code and meta only, never by its message (which quotes arguments)', () => {
  const prismaError = Object.assign(
    new Error('Invalid `prisma.customer.updateMany()` invocation: { where: { email: "alice@example.com" } }'),
    {
      name: 'PrismaClientKnownRequestError',
      code: 'P2002',
      clientVersion: '7.10.0',
      meta: { modelName: 'Customer', target: ['email_idx'] },
    },
  );
  const described = describeError(prismaError);
  expect(described.code).toBe('P2002');
  expect(described.message).not.toContain('alice');
  expect(described.message).toContain('modelName=Customer');
});

test('recognises hushfield errors from another copy of core by their code', () => {
  const foreign = Object.assign(new Error('keyring down'), { code: 'HUSHFIELD_KEYRING', name: 'KeyringError' });
  expect(isHushfieldError(foreign)).toBe(true);
  expect(isHushfieldError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
  expect(describeError(new ConfigError('bad'))).toEqual({
    code: 'HUSHFIELD_CONFIG',
    name: 'ConfigError',
    message: 'bad',
  });
});

test('with --json, errors are one JSON document on stdout', () => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = new Output({ stdout, stderr, stdin: new PassThrough(), stdinIsTTY: false, stderrIsTTY: false }, true);
  out.info('progress');
  out.error(new ConfigError('no config'));
  expect(JSON.parse(stdout.read().toString())).toEqual({
    error: { code: 'HUSHFIELD_CONFIG', name: 'ConfigError', message: 'no config' },
  });
  expect(stderr.read().toString()).toBe('progress\n');
});
