// ESM importer: named imports of every package resolve (types) and exist (run time).
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
