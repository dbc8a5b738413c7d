import { createHarness, expectNoPlaintextIn, expectNoPlaintextInLog, type Harness, isEnvelope } from './support';

describe('fieldEncryption: writes and reads', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('create stores envelopes and a blind index, returns plaintext, leaks nothing', async () => {
    const user = await h.prisma.user.create({
      data: { tenantId: 'acme', name: 'Alice', email: 'Alice@Example.com', ssn: '123-45-6789', notes: 'likes tea' },
    });
    expect(user).toMatchObject({ tenantId: 'acme', email: 'Alice@Example.com', ssn: '123-45-6789', notes: 'likes tea' });
    const [row] = await h.db.query<Record<string, string>>('SELECT * FROM users WHERE id = $1', [user.id]);
    expect(isEnvelope(row.email)).toBe(true);
    expect(isEnvelope(row.ssn)).toBe(true);
    expect(row.email_idx).toEqual(expect.any(String));
    await expectNoPlaintextIn(h.db, 'users', ['Alice@Example.com', 'alice@example.com', '123-45-6789', '123456789', 'likes tea']);
    expectNoPlaintextInLog(h.queries, ['Alice@Example.com', 'alice@example.com', '123-45-6789', 'likes tea']);
    const found = await h.prisma.user.findUnique({ where: { emailIdx: ' alice@example.COM ' } });
    expect(found?.email).toBe('Alice@Example.com');
    const byEmail = await h.prisma.user.findFirst({ where: { email: 'alice@example.com' } });
    expect(byEmail?.id).toBe(user.id);
    const bySsn = await h.prisma.user.findMany({ where: { ssn: '123456789' } });
    expect(bySsn.map((u) => u.id)).toEqual([user.id]);
  });
});
