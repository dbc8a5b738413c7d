import { randomBytes } from 'node:crypto';
import type { AuditEvent } from './audit';
import { FieldCrypto } from './field-crypto';
import { LocalKeyring } from './local-keyring';
import { MemoryKeyStore } from './memory-key-store';

const ctx = (rowId: string) => ({ model: 'users', field: 'email', rowId });

async function setup(auditDecrypts?: boolean | { sample: number }) {
  const events: AuditEvent[] = [];
  const crypto = new FieldCrypto({
    keyring: new LocalKeyring(randomBytes(32)),
    keyStore: new MemoryKeyStore(),
    cache: { ttlMs: 60_000 },
    audit: { emit: (event) => void events.push(event) },
    auditDecrypts,
  });
  const items = [];
  for (let n = 0; n < 2000; n++) {
    const row = await crypto.rowEncryptor('default');
    items.push({ value: row.encrypt(`user${n}@example.com`, ctx(`r${n}`)), ctx: ctx(`r${n}`) });
    row.dispose();
  }
  const decrypts = () => events.filter((event) => event.operation === 'value.decrypt');
  return { crypto, items, decrypts };
}

describe('auditDecrypts sampling', () => {
  it('emits no value.decrypt event by default', async () => {
    const { crypto, items, decrypts } = await setup();
    await crypto.decryptMany(items);
    expect(decrypts()).toHaveLength(0);
  });

  it('audits about the sampled fraction of successful decrypts, each event naming its sampleRate', async () => {
    const { crypto, items, decrypts } = await setup({ sample: 0.1 });
    await crypto.decryptMany(items);
    // 2,000 draws at p = 0.1: mean 200, standard deviation ~13.4; these bounds are > 7 sigma away.
    expect(decrypts().length).toBeGreaterThan(100);
    expect(decrypts().length).toBeLessThan(300);
    const detail = { model: 'users', field: 'email', sampleRate: 0.1 };
    for (const event of decrypts()) expect(event.detail).toMatchObject(detail);
  });

  it('audits every failure whatever the sample rate', async () => {
    const { crypto, items, decrypts } = await setup({ sample: 0.01 });
    const moved = items.slice(0, 50).map((item) => ({ value: item.value, ctx: ctx('elsewhere') }));
    await crypto.decryptMany(moved);
    expect(decrypts().filter((event) => event.outcome === 'failure')).toHaveLength(50);
  });

  it('audits a malformed value (a tampered or truncated envelope) as a failure, through decrypt and decryptMany', async () => {
    const { crypto, items, decrypts } = await setup({ sample: 0.01 });
    const truncated = String(items[0].value).slice(0, 20);
    await expect(crypto.decrypt(truncated, ctx('r0'))).rejects.toMatchObject({ code: 'HUSHFIELD_ENVELOPE_FORMAT' });
    const [result] = await crypto.decryptMany([{ value: 'hfe$1$x$1$y$z', ctx: ctx('r1') }]);
    expect(result).toMatchObject({ code: 'HUSHFIELD_ENVELOPE_FORMAT' });
    const failures = decrypts().filter((event) => event.outcome === 'failure');
    expect(failures.map((event) => [event.errorCode, event.detail])).toEqual([
      ['HUSHFIELD_ENVELOPE_FORMAT', { model: 'users', field: 'email', rowId: 'r0' }],
      ['HUSHFIELD_ENVELOPE_FORMAT', { model: 'users', field: 'email', rowId: 'r1' }],
    ]);
    expect(JSON.stringify(failures)).not.toContain(truncated);
  });

  it('audits every value with true, without a sampleRate', async () => {
    const { crypto, items, decrypts } = await setup(true);
    await crypto.decryptMany(items.slice(0, 10));
    expect(decrypts()).toHaveLength(10);
    expect(decrypts()[0].detail?.sampleRate).toBeUndefined();
  });

  it.each([0, -0.5, 1.5, Number.NaN, '0.1'])('rejects a sample of %p', (sample) => {
    expect(
      () =>
        new FieldCrypto({
          keyring: new LocalKeyring(randomBytes(32)),
          keyStore: new MemoryKeyStore(),
          cache: { ttlMs: 1000 },
          audit: { emit: () => undefined },
          auditDecrypts: { sample: sample as number },
        }),
    ).toThrow(/options\.auditDecrypts\.sample must be a number greater than 0 and at most 1/);
  });
});
