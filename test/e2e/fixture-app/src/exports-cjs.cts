// CommonJS importer (a .cts file: tsc emits require calls): the same imports, types and run time.
import { LocalKeyring, isEnvelope } from '@hushfield/core';
import { AwsKmsKeyring } from '@hushfield/kms-aws';
import { computedBlindIndex, fieldEncryption } from '@hushfield/prisma';
import { ExitCode, defineConfig } from '@hushfield/cli';

console.log(
  JSON.stringify(
    { LocalKeyring, isEnvelope, AwsKmsKeyring, computedBlindIndex, fieldEncryption, ExitCode, defineConfig },
    (key, value) => (key ? typeof value : value),
  ),
);
