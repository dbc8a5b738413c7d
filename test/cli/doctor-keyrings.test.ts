/**
 * `hushfield doctor` checks every keyring it may need: each member of a MultiKeyring (a member
 * that is down cannot recover keys from its copies) and each named keyring of the config (the
 * targets of `keys rewrap --to-keyring`).
 */
import { randomBytes } from 'node:crypto';
import { KeyringError, LocalKeyring, type Keyring } from '@hushfield/core';
import { MultiKeyring } from '@hushfield/kms-aws';
import { createCliWorld, type CliWorld } from './support';

/** A keyring whose service does not answer. */
function downKeyring(id: string): Keyring {
  const fail = (operation: 'wrap' | 'unwrap' | 'generate') => {
    throw new KeyringError(`keyring ${id} unreachable`, { keyringId: id, operation, retryable: true });
  };
  return {
    id,
    wrapKey: async () => fail('wrap'),
    unwrapKey: async () => fail('unwrap'),
    generateKey: async () => fail('generate'),
  } as unknown as Keyring;
}

type Check = { check: string; level: string; message: string };

let world: CliWorld;
beforeAll(async () => {
  world = await createCliWorld();
}, 120_000);
afterAll(async () => world?.close());

test('reports each member of a MultiKeyring, and warns about the one that is down', async () => {
  const primary = new LocalKeyring(randomBytes(32), { id: 'local-primary' });
  const keyring = new MultiKeyring([primary, downKeyring('recovery-down')]);
  const result = await world.runCli(['doctor', '--json'], { config: { keyring } });
  const keyrings = (result.json.checks as Check[]).filter((check) => check.check === 'keyring');
  expect(keyrings[0]).toMatchObject({ level: 'fail' }); // a wrap must reach every member
  expect(keyrings).toContainEqual(
    expect.objectContaining({ level: 'ok', message: expect.stringMatching(/^member local-primary round trip ok/) }),
  );
  expect(keyrings).toContainEqual(
    expect.objectContaining({
      level: 'warn',
      message: expect.stringMatching(/^member recovery-down round trip failed: keyring recovery-down unreachable/),
    }),
  );
  expect(result.code).toBe(1);
});

test('checks the named keyrings of the config and warns about the unreachable ones', async () => {
  const keyring = new LocalKeyring(randomBytes(32), { id: 'local-main' });
  const spare = new LocalKeyring(randomBytes(32), { id: 'local-spare' });
  const result = await world.runCli(['doctor', '--json'], {
    config: { keyring, keyrings: { spare, vault: () => downKeyring('vault-down'), main: keyring } },
  });
  const keyrings = (result.json.checks as Check[]).filter((check) => check.check === 'keyring');
  expect(keyrings.map((check) => check.level)).toEqual(['ok', 'ok', 'warn']);
  expect(keyrings[1].message).toMatch(/^keyrings\.spare \(local-spare\) round trip ok/);
  expect(keyrings[2].message).toMatch(
    /^keyrings\.vault round trip failed: .*\(keys rewrap --to-keyring vault would fail\)/,
  );
  expect(result.code).toBe(0); // warnings only: the configured keyring works
});
