import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@hushfield/core';
import { envFilePath, loadEnvFile, missingUrlHint } from './env-file';

describe('env files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hushfield-envfile-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the .env beside the config, as dotenv parses it, without overriding the environment', () => {
    const path = envFilePath(join(dir, 'hushfield.config.ts'), '/elsewhere');
    expect(path).toBe(join(dir, '.env'));
    writeFileSync(
      path,
      '# comment\nDATABASE_URL="postgresql://u@h/db?x=1#frag"\nexport KEY=abc\nSET=from-file\nEMPTY=\n',
    );
    const env: NodeJS.ProcessEnv = { SET: 'from-env' };
    const result = loadEnvFile(path, false, env);
    expect(env).toEqual({ DATABASE_URL: 'postgresql://u@h/db?x=1#frag', KEY: 'abc', SET: 'from-env', EMPTY: '' });
    expect(result).toEqual({ path, found: true, loaded: ['DATABASE_URL', 'KEY', 'EMPTY'], kept: ['SET'] });
  });

  it('skips a missing default file, refuses a missing named one', () => {
    expect(loadEnvFile(join(dir, 'none.env'), false, {})).toEqual({
      path: join(dir, 'none.env'),
      found: false,
      loaded: [],
      kept: [],
    });
    expect(() => loadEnvFile(join(dir, 'none.env'), true, {})).toThrow(ConfigError);
    expect(envFilePath(join(dir, 'hushfield.config.ts'), dir, 'prod.env')).toBe(join(dir, 'prod.env'));
  });

  it('hints at DATABASE_URL only for connection failures while it is unset', () => {
    const refused = { code: 'P1010' };
    const file = { path: '/p/.env', found: false, loaded: [], kept: [] };
    expect(missingUrlHint(refused, file, {})).toBe(
      'DATABASE_URL is not set (there is no /p/.env): set it in the environment, in the .env next to hushfield.config.ts, or name a file with --dotenv',
    );
    expect(
      missingUrlHint(
        { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } } },
        { ...file, found: true },
        {},
      ),
    ).toContain('/p/.env does not set it');
    expect(missingUrlHint(refused, file, { DATABASE_URL: 'x' })).toBeUndefined();
    expect(missingUrlHint({ code: 'P2002' }, file, {})).toBeUndefined();
  });
});
