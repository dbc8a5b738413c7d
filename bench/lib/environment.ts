/**
 * Where the numbers were taken: machine, runtime and library versions, for the header of
 * RESULTS.md. Numbers from another machine are only comparable through their ratios.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';

/** Repository root (bench/ sits directly under it). */
export const REPO_ROOT = join(__dirname, '..', '..');

/** Machine and versions, as rows of a two-column table. */
export interface Environment {
  readonly rows: readonly (readonly [string, string])[];
}

function packageVersion(name: string, from = REPO_ROOT): string {
  try {
    return (
      JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [from] }), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    // Not exported by the package: walk up from its entry point instead.
  }
  try {
    let dir = dirname(require.resolve(name, { paths: [from] }));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (manifest.name === name && manifest.version) return manifest.version;
      }
      if (dirname(dir) === dir) return 'unknown';
      dir = dirname(dir);
    }
  } catch {
    return 'not installed';
  }
}

/**
 * Describes this machine and the versions in use.
 * @param postgresVersion - `SHOW server_version` of the database the run used
 */
export function describeEnvironment(postgresVersion: string): Environment {
  const cpus = os.cpus();
  return {
    rows: [
      ['CPU', `${cpus[0]?.model ?? 'unknown'} (${cpus.length} cores online)`],
      ['Memory', `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`],
      ['OS', `${os.type()} ${os.release()} ${os.arch()}`],
      ['Node.js', process.version],
      ['OpenSSL', process.versions.openssl],
      ['Prisma CLI / @prisma/client', `${packageVersion('prisma')} / ${packageVersion('@prisma/client')}`],
      ['@prisma/adapter-pg / pg', `${packageVersion('@prisma/adapter-pg')} / ${packageVersion('pg')}`],
      ['PostgreSQL', postgresVersion],
      ['@47ng/cloak', packageVersion('@47ng/cloak')],
      ['@aws-sdk/client-kms', packageVersion('@aws-sdk/client-kms', join(REPO_ROOT, 'packages', 'kms-aws'))],
    ],
  };
}
