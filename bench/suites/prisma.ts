/**
 * prisma: the test schema's `User` (3 encrypted fields, 2 blind indexes, scope = tenantId) on
 * PostgreSQL, plain Prisma writing plaintext to the same tables vs the hushfield extension.
 * Writes: create one by one, createMany. Point operations: findUnique through the blind index
 * (against plain Prisma plus the HMAC), update of a row the client has seen, and the cost of
 * re-checking a full-length index hit. Reads: findMany against the bare-crypto floor, cold and
 * warm, and with an include of a relation holding encrypted fields, each cold read also with
 * the decrypt thread off (`parallelDecrypt: false`). Then findMany scaling.
 * Every ratio is reported as the median with its min–max over rounds (or runs).
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { LocalKeyring } from '@hushfield/core';
import type { TestDatabase } from '../../test/support/database';
import { performance } from 'node:perf_hooks';
import { bareHmac, bareOpen, bareReadFields, bareReadRow, bareWriteRow, type BareRow } from '../lib/bare-crypto';
import { plainUserInputs, userInputs, type PlainUserInput, type UserInput } from '../lib/fixtures';
import { median, medianMs, sampleInterleaved, type RunPlan, type Samples } from '../lib/measure';
import { encryptedClient, plainClient, plainUsers, truncateUsers } from '../lib/prisma-clients';
import { insertEncryptedUsers, insertPlainUsers, insertPosts, postBody } from '../lib/seed-users';
import { count, ms, ratio, ratioRange, us, type Section, type Table, type TargetCheck } from '../lib/report';
import { hushfieldSchema } from '../../prisma/generated/hushfield';
// Internal: the re-check a full-length blind-index hit goes through (timed in place, see below).
import { dropMismatches } from '../../packages/prisma/dist/extension/query/truncated-lookup';
import { runScaling } from './prisma-scaling';

/** The driver adapter the section's client uses, by provider. */
const ADAPTERS = {
  postgresql: '@prisma/adapter-pg',
  mysql: '@prisma/adapter-mariadb',
  sqlite: '@prisma/adapter-better-sqlite3',
} as const;
/** Sizes and repetitions; the defaults are the published benchmark. */
export interface PrismaBenchOptions {
  readonly db: TestDatabase;
  /** Rows for create, createMany and findMany. */
  readonly rows?: number;
  readonly lookups?: number;
  readonly updates?: number;
  /** Parents (users) and children (posts) per parent for findMany with include. */
  readonly parents?: number;
  readonly children?: number;
  /** Table sizes for findMany scaling. */
  readonly scaling?: readonly number[];
  /** Scopes (tenants) the rows spread over. */
  readonly tenants?: number;
  /** Runs for the slow one-by-one writes. */
  readonly writePlan?: RunPlan;
  /** Runs for everything else. */
  readonly plan?: RunPlan;
  readonly log?: (line: string) => void;
}

/**
 * One-by-one creates are timed in paired rounds of this many rows (plain, hushfield, plain,
 * ...): short rounds, so that load from other processes, which changes within seconds on this
 * shared machine, hits both sides of a pair alike; the ratio is the median of the pairs.
 */
const CREATE_ROUND_ROWS = 200;
/** Point operations (findUnique, update) are timed in this many paired rounds per run. */
const POINT_ROUNDS = 10;
/** Rows of the small createMany that warms its query plan. */
const BULK_WARMUP_ROWS = 100;
/** The reference's pooled randomness: one `randomBytes` call per 4 KiB, as core's random pool. */
const RANDOM_POOL_BYTES = 4096;

const USER = hushfieldSchema.models.User;

/** Checks what the encrypted client stored is ciphertext, from what the database holds. */
async function verifyStored(db: TestDatabase, isEnvelope: (v: string) => boolean): Promise<void> {
  const stored = await db.query<{ email: string; ssn: string; notes: string }>(
    'SELECT email, ssn, notes FROM users LIMIT 100',
  );
  if (
    stored.length === 0 ||
    stored.some((row) => !isEnvelope(row.email) || !isEnvelope(row.ssn) || !isEnvelope(row.notes))
  ) {
    throw new Error('the encrypted client stored something that is not an envelope');
  }
}

/** Checks a read through the extension returned every row written, decrypted. */
function verifyRead(read: Record<string, unknown>[], expected: readonly UserInput[]): void {
  const emails = new Set(expected.map((row) => row.email));
  if (read.length !== expected.length || read.some((row) => !emails.has(row.email as string))) {
    throw new Error('the encrypted client read back something else than was written');
  }
}

/** Runs `op` on each of `items` in turn. */
async function each<T>(items: readonly T[], op: (item: T) => Promise<unknown>): Promise<void> {
  for (const item of items) await op(item);
}

/** Runs the Prisma benchmark. */
export async function runPrismaBench(options: PrismaBenchOptions): Promise<Section> {
  const { db } = options;
  const rows = options.rows ?? 10_000;
  const lookups = Math.min(options.lookups ?? 1_000, rows);
  const updates = Math.min(options.updates ?? 1_000, rows);
  const tenants = options.tenants ?? 10;
  const parents = Math.min(options.parents ?? 1_000, rows);
  const children = options.children ?? 10;
  // One-by-one creates are slow (10,000 round trips each): warmed up separately below. Two
  // runs give 100 paired rounds of 200 creates.
  const writePlan = options.writePlan ?? { warmup: 0, runs: 2 };
  const plan = options.plan ?? { warmup: 1, runs: 5 };
  const log = options.log ?? (() => undefined);
  // Point operations: 1,000 of each per run, in paired rounds; a tenth of them warms up first.
  const pointRuns = Math.min(3, plan.runs);

  const base = plainClient(db);
  const keyring = new LocalKeyring(randomBytes(32));
  const plain = plainUsers(base);
  const encrypted = encryptedClient(base, keyring);
  const enc = encrypted.users;
  // The same extension with the DEK pool on (`dekPool: {}`; off by default): creates take DEKs
  // prepared and wrapped after earlier creates, off their path.
  const pooled = encryptedClient(base, keyring, { dekPool: true }).users;
  const tables: Table[] = [];
  const targets: TargetCheck[] = [];

  try {
    // Warm both paths (connection pool, query compiler, scope keys) before anything is timed.
    await truncateUsers(db);
    const warm = Math.min(300, rows);
    for (const row of plainUserInputs(0, warm, 'warm-plain', tenants)) await plain.create({ data: row });
    for (const row of userInputs(0, warm, 'warm-enc', tenants)) await enc.create({ data: row });
    for (const row of userInputs(0, warm, 'warm-pooled', tenants)) await pooled.create({ data: row });

    // One-by-one creates in short paired rounds: the ratio is the median of the per-round ratios.
    log(`prisma: create ×${count(rows)}, one by one`);
    const perRound = Math.min(CREATE_ROUND_ROWS, rows);
    const rounds = Math.ceil(rows / perRound);
    // Reference, not a target: plain Prisma's create followed in place by the crypto a
    // hushfield create cannot avoid (a fresh DEK drawn and wrapped, three values sealed, two
    // blind-index HMACs), on bare node:crypto, between the same round trips. Its DEKs and
    // nonces come from a pooled buffer, as hushfield's do (core's random-pool.ts).
    let randomPool = randomBytes(RANDOM_POOL_BYTES);
    let randomAt = 0;
    const pooledRandom = (bytes: number): Buffer => {
      if (randomAt + bytes > randomPool.length) {
        randomPool = randomBytes(RANDOM_POOL_BYTES);
        randomAt = 0;
      }
      randomAt += bytes;
      return randomPool.subarray(randomAt - bytes, randomAt);
    };
    // Keys and associated data of every reference (creates here, lookups and updates below).
    const indexKey = randomBytes(32);
    const pointKey = randomBytes(32);
    const pointAad = Buffer.from('hushfield/v1|users|email|0123456789abcdef|7d1f5c2e-3b7a-4a51-9d0c-2f6f0f3b9a11');
    const referenceCreate = async (row: PlainUserInput): Promise<void> => {
      await plain.create({ data: row });
      bareWriteRow(pointKey, [row.email, row.ssn, row.notes], pointAad, pooledRandom);
      bareHmac(indexKey, row.email.trim().toLowerCase());
      bareHmac(indexKey, row.ssn);
    };
    for (const row of plainUserInputs(0, warm, 'warm-ref', tenants)) await referenceCreate(row);
    const creates = await sampleInterleaved(
      { warmup: 0, runs: writePlan.runs * rounds },
      {
        plain: {
          before: (run) => (run % rounds === 0 ? truncateUsers(db) : undefined),
          fn: async (run) => {
            for (const row of plainUserInputs(0, perRound, `c${run}`, tenants)) await plain.create({ data: row });
          },
        },
        encrypted: {
          fn: async (run) => {
            for (const row of userInputs(0, perRound, `c${run}`, tenants)) await enc.create({ data: row });
          },
        },
        pooled: {
          fn: async (run) => {
            for (const row of userInputs(0, perRound, `u${run}`, tenants)) await pooled.create({ data: row });
          },
        },
        reference: {
          fn: async (run) => {
            for (const row of plainUserInputs(0, perRound, `r${run}`, tenants)) await referenceCreate(row);
          },
        },
      },
      { rotate: true },
    );
    const roundRatios = pairRatios(creates.encrypted, creates.plain);
    const pooledRatios = pairRatios(creates.pooled, creates.plain);
    const poolRatios = pairRatios(creates.pooled, creates.encrypted);
    // Time for all rows: the median round, times the rounds (robust to a round hit by a stall).
    const createPlainMs = median(creates.plain.runsMs) * rounds;
    const createEncMs = median(creates.encrypted.runsMs) * rounds;
    const createRatio = median(roundRatios);

    log(`prisma: createMany of ${count(rows)}`);
    let plainBatch = plainUserInputs(0, rows, 'm', tenants);
    let encBatch = userInputs(0, rows, 'm', tenants);
    // The code is warm from the creates; a small batch each warms createMany's query plan, so
    // no 10,000-row run is thrown away.
    if (plan.warmup > 0) {
      const warmRows = Math.min(BULK_WARMUP_ROWS, rows);
      await plain.createMany({ data: plainUserInputs(0, warmRows, 'mw-plain', tenants) });
      await enc.createMany({ data: userInputs(0, warmRows, 'mw-enc', tenants) });
    }
    const bulkPlan = { warmup: 0, runs: Math.min(3, plan.runs) };
    const bulk = await sampleInterleaved(bulkPlan, {
      plain: {
        before: async (run) => {
          await truncateUsers(db);
          plainBatch = plainUserInputs(0, rows, `m${run}`, tenants);
        },
        fn: () => plain.createMany({ data: plainBatch }),
      },
      encrypted: {
        before: async (run) => {
          await truncateUsers(db);
          encBatch = userInputs(0, rows, `m${run}`, tenants);
        },
        fn: () => enc.createMany({ data: encBatch }),
      },
    });
    await verifyStored(db, (v) => encrypted.crypto.isEnvelope(v)); // the last run was hushfield's

    // Point operations: plaintext rows and sealed rows side by side in one table, so that plain
    // and hushfield lookups and updates can alternate in paired rounds.
    log(`prisma: findUnique ×${count(lookups)} and update ×${count(updates)}, paired rounds`);
    await truncateUsers(db);
    const sealer = encryptedClient(base, keyring, { dekCache: false }).crypto;
    const plainRowIds = await insertPlainUsers(db, plainUserInputs(0, rows, 'p', tenants));
    const sealedRowIds = await insertEncryptedUsers(db, sealer, userInputs(0, rows, 'q', tenants));
    const emailOf = (tag: string, j: number) => `user.${tag}.${String((j * 7919) % rows).padStart(6, '0')}@example.com`;
    const plainEmails = Array.from({ length: lookups }, (_, j) => emailOf('p', j));
    const encEmails = Array.from({ length: lookups }, (_, j) => emailOf('q', j));
    // Plain Prisma plus the one HMAC a blind-index lookup cannot avoid (under `indexKey`), computed
    // in place. Reference, not a target: plain Prisma plus all the crypto the design cannot avoid,
    // done in place on bare node:crypto (lib/bare-crypto.ts), so its calls run in the same cache
    // state as hushfield's between round trips. Per row of the sealed table: its values, bare-sealed.
    const bareByEmail = new Map(
      userInputs(0, rows, 'q', tenants).map((row) => [
        row.email,
        bareWriteRow(pointKey, [row.email, row.ssn, row.notes], pointAad),
      ]),
    );
    // hushfield's DEK cache unwraps a row's DEK on its first read only: so does the reference.
    const unwrapped = new Map<BareRow, Buffer>();
    const bareRead = (row: BareRow, fields: readonly number[]): void => {
      let dek = unwrapped.get(row);
      if (dek === undefined) unwrapped.set(row, (dek = bareOpen(pointKey, row.wrappedDek, pointAad)));
      for (const k of fields) bareOpen(dek, row.fields[k], pointAad).toString('utf8');
    };
    const plainLookup = async (email: string): Promise<void> => {
      bareHmac(indexKey, email.trim().toLowerCase());
      if (!(await plain.findUnique({ where: { emailIdx: email } }))) throw new Error('plain lookup missed');
    };
    // The re-check of a full-length hit (the decrypted email against the query value), timed
    // again on the row each lookup returned, right after the lookup.
    const recheckCondition = [{ field: 'email', index: USER.blindIndexes.emailIdx, values: [''] }];
    let recheckMs = 0;
    let recheckCalls = 0;
    const encLookup = async (email: string): Promise<void> => {
      const row = await enc.findUnique({ where: { email } });
      if (!row) throw new Error('encrypted lookup missed');
      const start = performance.now();
      const kept = dropMismatches(row, [{ ...recheckCondition[0], values: [email] }]);
      recheckMs += performance.now() - start;
      recheckCalls++;
      if (kept !== row) throw new Error('the re-check dropped a true hit');
    };
    const perPoint = Math.ceil(lookups / POINT_ROUNDS);
    const slice = <T>(items: readonly T[], run: number) =>
      items.slice((run % POINT_ROUNDS) * perPoint, ((run % POINT_ROUNDS) + 1) * perPoint);
    if (plan.warmup > 0) {
      await each(plainEmails.slice(0, perPoint), plainLookup);
      await each(encEmails.slice(0, perPoint), encLookup);
    }
    recheckMs = 0;
    recheckCalls = 0;
    // The reference lookup: plain + HMAC, then the row's DEK unwrap (first read) and 3 decrypts.
    const referenceLookup = async (j: number): Promise<void> => {
      await plainLookup(plainEmails[j]);
      bareRead(bareByEmail.get(encEmails[j])!, [0, 1, 2]);
    };
    const lookupIndexes = Array.from({ length: lookups }, (_, j) => j);
    if (plan.warmup > 0) await each(lookupIndexes.slice(0, perPoint), referenceLookup);
    const unique = await sampleInterleaved(
      { warmup: 0, runs: pointRuns * POINT_ROUNDS },
      {
        plain: { fn: (run) => each(slice(plainEmails, run), plainLookup) },
        encrypted: { fn: (run) => each(slice(encEmails, run), encLookup) },
        reference: { fn: (run) => each(slice(lookupIndexes, run), referenceLookup) },
      },
      { rotate: true },
    );
    const uniqueRatios = pairRatios(unique.encrypted, unique.plain);
    const encLookupUs = (median(unique.encrypted.runsMs) * 1000) / perPoint;
    const recheckUs = (recheckMs * 1000) / Math.max(1, recheckCalls);

    // Updates of rows each client has seen: one untimed update of each row first (for
    // hushfield, the row's id and scope are then known and the UPDATE goes alone).
    const perUpdate = Math.ceil(updates / POINT_ROUNDS);
    const plainUpdateIds = plainRowIds.slice(0, updates);
    const encUpdateIds = sealedRowIds.slice(0, updates);
    const updateNotes = (id: string, run: number) => ({ where: { id }, data: { notes: `updated in run ${run}` } });
    await each(plainUpdateIds, (id) => plain.update(updateNotes(id, -1)));
    await each(encUpdateIds, (id) => enc.update(updateNotes(id, -1)));
    const updateSlice = (ids: readonly string[], run: number) =>
      ids.slice((run % POINT_ROUNDS) * perUpdate, ((run % POINT_ROUNDS) + 1) * perUpdate);
    // The reference update: plain (on the plain rows), then the new notes sealed under a fresh
    // DEK (drawn, wrapped) and the two other returned values opened (DEK unwrapped on first use).
    const bareRowOf = new Map(plainUpdateIds.map((id, j) => [id, bareByEmail.get(encEmails[j % lookups])!]));
    const referenceUpdate = async (id: string, run: number): Promise<void> => {
      const args = updateNotes(id, run);
      await plain.update(args);
      bareWriteRow(pointKey, [args.data.notes], pointAad, pooledRandom);
      bareRead(bareRowOf.get(id)!, [0, 1]);
    };
    await each(plainUpdateIds, (id) => referenceUpdate(id, -1));
    const updated = await sampleInterleaved(
      { warmup: 0, runs: pointRuns * POINT_ROUNDS },
      {
        plain: { fn: (run) => each(updateSlice(plainUpdateIds, run), (id) => plain.update(updateNotes(id, run))) },
        encrypted: { fn: (run) => each(updateSlice(encUpdateIds, run), (id) => enc.update(updateNotes(id, run))) },
        reference: { fn: (run) => each(updateSlice(plainUpdateIds, run), (id) => referenceUpdate(id, run)) },
      },
      { rotate: true },
    );
    const updateRatios = pairRatios(updated.encrypted, updated.plain);
    for (const dek of unwrapped.values()) dek.fill(0);

    // Reads: plaintext rows and the same rows sealed as the extension writes them
    // (lib/seed-users.ts) in one table, each read selecting its own by name, so that plain
    // Prisma's runs alternate with the others and load from elsewhere hits every case alike.
    log(`prisma: reads on ${count(rows)} plain and ${count(rows)} encrypted rows`);
    await truncateUsers(db);
    await insertPlainUsers(db, plainUserInputs(0, rows, 'rp', tenants));
    const written = userInputs(0, rows, 'r', tenants);
    await insertEncryptedUsers(db, sealer, written);
    const plainRead = { where: { name: { startsWith: 'User rp-' } } };
    const sealedRead = { where: { name: { startsWith: 'User r-' } } };
    if ((await plain.findMany(plainRead)).length !== rows) throw new Error('plain Prisma read other rows than its own');
    // The floor for the same values: one DEK unwrap per row, three value decrypts.
    const scopeKey = randomBytes(32);
    const aad = Buffer.from('hushfield/v1|users|email|0123456789abcdef|7d1f5c2e-3b7a-4a51-9d0c-2f6f0f3b9a11');
    const bareRows: BareRow[] = written.map((row) => bareWriteRow(scopeKey, [row.email, row.ssn, row.notes], aad));
    // For reference, not a target: the decrypts alone, DEKs unwrapped beforehand as a warm cache holds them.
    const bareDeks = bareRows.map((row) => bareOpen(scopeKey, row.wrappedDek, aad));
    // Plain, cold, warm and floor runs alternate, so load from elsewhere hits them all alike.
    const coldCalls: number[] = [];
    const warmClient = encryptedClient(base, keyring);
    verifyRead(await warmClient.users.findMany(sealedRead), written);
    const reads = await sampleInterleaved(plan, {
      plain: { fn: () => plain.findMany(plainRead) },
      cold: {
        fn: async (run) => {
          const fresh = encryptedClient(base, keyring);
          await fresh.users.findMany(sealedRead);
          if (run >= plan.warmup) coldCalls.push(fresh.crypto.stats().keyringCalls);
        },
      },
      warm: { fn: () => warmClient.users.findMany(sealedRead) },
      // The same cold read with every value decrypted on the calling thread (no decrypt thread).
      coldOneThread: {
        fn: () => encryptedClient(base, keyring, { parallelDecrypt: false }).users.findMany(sealedRead),
      },
      floor: {
        fn: () => {
          for (const row of bareRows) bareReadRow(scopeKey, row, aad);
        },
      },
      decryptsOnly: {
        fn: () => {
          bareRows.forEach((row, i) => bareReadFields(bareDeks[i], row, aad));
        },
      },
    });
    for (const dek of bareDeks) dek.fill(0);
    const { plain: plainFind, cold, warm: warmRead, coldOneThread, floor, decryptsOnly } = reads;
    const warmStats = warmClient.crypto.stats();

    // findMany with an include of a relation holding encrypted fields: users and their posts.
    log(`prisma: findMany of ${count(parents)} users including ${count(parents * children)} posts`);
    // Plain and sealed users (and their posts) in the same tables again, each read selecting its own.
    const plainInclude = { where: { name: { startsWith: 'User ip-' } }, include: { posts: true } };
    const include = { where: { name: { startsWith: 'User ie-' } }, include: { posts: true } };
    await truncateUsers(db);
    await insertPosts(db, await insertPlainUsers(db, plainUserInputs(0, parents, 'ip', tenants)), children);
    const parentRows = userInputs(0, parents, 'ie', tenants);
    await insertPosts(db, await insertEncryptedUsers(db, sealer, parentRows), children, sealer);
    // The floor: per user one DEK unwrap and three decrypts, per post one unwrap and one decrypt.
    const bareParents = parentRows.map((row) => bareWriteRow(scopeKey, [row.email, row.ssn, row.notes], aad));
    const bareChildren = parentRows.flatMap((_, i) =>
      Array.from({ length: children }, (_, k) => bareWriteRow(scopeKey, [postBody(i, k)], aad)),
    );
    verifyInclude(await encryptedClient(base, keyring).users.findMany(include), parentRows, children);
    if ((await plain.findMany(plainInclude)).length !== parents) throw new Error('plain Prisma read other users');
    const included = await sampleInterleaved(plan, {
      plain: { fn: () => plain.findMany(plainInclude) },
      cold: { fn: () => encryptedClient(base, keyring).users.findMany(include) },
      coldOneThread: { fn: () => encryptedClient(base, keyring, { parallelDecrypt: false }).users.findMany(include) },
      floor: {
        fn: () => {
          for (const row of bareParents) bareReadRow(scopeKey, row, aad);
          for (const row of bareChildren) bareReadRow(scopeKey, row, aad);
        },
      },
    });

    const p = (s: { runsMs: readonly number[] }) => medianMs(s);
    const writeRow = (name: string, a: number, b: number, n: number, ratios?: readonly number[]): string[] => [
      name,
      ms(a),
      ms(b),
      ratios === undefined ? ratio(b / a) : ratioRange(ratios),
      us((b * 1000) / n),
      us(((b - a) * 1000) / n),
    ];
    const pointRow = (name: string, samples: Record<string, Samples>, n: number, ratios: number[]) =>
      writeRow(name, p(samples.plain) * POINT_ROUNDS, p(samples.encrypted) * POINT_ROUNDS, n, ratios);
    tables.push({
      title: 'Writes and point operations: plain Prisma vs hushfield',
      columns: [
        'operation',
        'plain',
        'hushfield',
        'hushfield / plain (median, min–max)',
        'hushfield per op',
        'added per op',
      ],
      rows: [
        writeRow(`create ×${count(rows)} (one by one)`, createPlainMs, createEncMs, rows, roundRatios),
        writeRow(
          `create ×${count(rows)} (one by one), DEK pool on`,
          createPlainMs,
          median(creates.pooled.runsMs) * rounds,
          rows,
          pooledRatios,
        ),
        writeRow(
          `createMany of ${count(rows)}`,
          p(bulk.plain),
          p(bulk.encrypted),
          rows,
          pairRatios(bulk.encrypted, bulk.plain),
        ),
        pointRow(`findUnique by blind index ×${count(lookups)} (plain: + its HMAC)`, unique, lookups, uniqueRatios),
        pointRow(`update (notes) of a seen row ×${count(updates)}`, updated, updates, updateRatios),
      ],
      notes: [
        `Rows spread over ${tenants} scopes (tenantId). Plain writes the same values in plaintext, filling the index columns with the plaintext lookup keys; hushfield computes them (HMAC).`,
        `create: ${writePlan.runs} runs of ${count(rows)}, each in ${rounds} rounds of ${count(perRound)} alternating plain, hushfield (defaults: each create draws and wraps its DEK inline) and hushfield with the DEK pool on (\`dekPool: {}\`: DEKs drawn and wrapped in batches of 8 per scope after earlier creates, off their path) and the reference (plain plus bare crypto, see the next table), each round starting one case later than the one before; times are the median round × ${rounds}, the ratio is the median (min–max) of the ${roundRatios.length} paired round ratios. DEK pool on / off, paired: ${ratioRange(poolRatios)}. createMany: ${bulkPlan.runs} alternating runs (after a ${BULK_WARMUP_ROWS}-row createMany each as warm-up), ratio per pair of runs.`,
        `findUnique and update: plaintext rows and hushfield's sealed rows (${count(rows)} each) in one table; ${pointRuns} passes over the operations, each in ${POINT_ROUNDS} rounds alternating plain and hushfield (${pointRuns * POINT_ROUNDS} paired rounds); times are the median round × ${POINT_ROUNDS}, the ratio is the median (min–max) of the paired round ratios. findUnique: plain looks up \`emailIdx\` by plaintext after computing an HMAC-SHA256 of the normalized email (the one crypto call a blind-index lookup cannot avoid); hushfield is asked \`findUnique({ where: { email } })\`, rewrites it to the blind index, decrypts the row's three values and re-checks the hit. update: every row was updated once, untimed, by the same client before the rounds, so hushfield knows its id and scope and sends the UPDATE alone, as plain Prisma does (it seals the new notes under a fresh DEK).`,
        `Re-check of a full-length index hit (the row's decrypted email against the query value, \`dropMismatches\`): ${us(recheckUs)} per findUnique, timed again in place on the row each lookup returned, against ${us(encLookupUs)} per hushfield findUnique (${((recheckUs / encLookupUs) * 100).toFixed(2)} %). With all fields selected the re-check selects nothing extra; a \`select\` without the email adds the email (and the bound id) to the query and its decryption (\`bench/recheck.ts\`).`,
        'Tables for the reads are filled with SQL, untimed: plaintext rows as they are, hushfield rows sealed with the same `FieldCrypto` calls the extension makes (`bench/lib/seed-users.ts`); every hushfield read decrypts and checks them.',
      ],
    });

    const referenceRow = (name: string, samples: Record<string, Samples>, n: number, roundsPer = POINT_ROUNDS) => [
      ...writeRow(
        name,
        p(samples.reference) * roundsPer,
        p(samples.encrypted) * roundsPer,
        n,
        pairRatios(samples.encrypted, samples.reference),
      ),
      ratioRange(pairRatios(samples.reference, samples.plain)),
    ];
    tables.push({
      title: 'Point operations against plain Prisma plus the crypto they cannot avoid (reference, not a target)',
      columns: [
        'operation',
        'reference',
        'hushfield',
        'hushfield / reference (median, min–max)',
        'hushfield per op',
        'added over reference per op',
        'reference / plain',
      ],
      rows: [
        referenceRow(`create ×${count(rows)} (one by one)`, creates, rows, rounds),
        referenceRow(`findUnique by blind index ×${count(lookups)}`, unique, lookups),
        referenceRow(`update (notes) of a seen row ×${count(updates)}`, updated, updates),
      ],
      notes: [
        "The reference is plain Prisma's operation followed, in place, by the AES-256-GCM and HMAC calls the design requires of it, made directly on `node:crypto` (`lib/bare-crypto.ts`): create, a fresh DEK drawn and wrapped, the three values sealed under it and the two blind-index HMACs (email normalized, ssn); findUnique, the HMAC of the email, then the row's DEK unwrapped (on its first lookup only, as hushfield's DEK cache does) and its three values opened; update, a fresh DEK drawn and wrapped and the new notes sealed under it, then the two other returned values opened (their DEK unwrapped on first use). Its calls run between round trips, in the same cache state as hushfield's.",
        "`reference / plain` is what that crypto alone costs against the operation's target base: where it is clearly above the target's allowance (1.15× for create and update; 1.1× for findUnique, whose base already includes the HMAC), no implementation of the design can be expected to meet the target on this machine; `hushfield / reference` is hushfield's own overhead.",
        `Paired rounds as above (create: ${roundRatios.length} rounds of ${count(perRound)}; findUnique and update: ${pointRuns * POINT_ROUNDS}), the reference alternating with plain and hushfield, each round starting one case later than the one before. The reference draws its DEKs and nonces from a pooled buffer, as hushfield does, and reuses one associated-data buffer (hushfield builds one per value).`,
      ],
    });

    const plainMs = p(plainFind);
    const floorMs = p(floor);
    const coldMs = p(cold);
    const warmMs = p(warmRead);
    // Per round: the run's added time over plain Prisma's run, against the floor run, both of its round.
    const addedRatios = (reader: Samples, floorRuns: Samples, plainRuns: Samples) =>
      reader.runsMs.map((value, i) => (value - plainRuns.runsMs[i]) / floorRuns.runsMs[i]);
    const coldRatios = addedRatios(cold, floor, plainFind);
    const warmRatios = addedRatios(warmRead, floor, plainFind);
    const oneThreadRatios = addedRatios(coldOneThread, floor, plainFind);
    const findRow = (name: string, value: number, ratios: readonly number[]): string[] => [
      name,
      ms(value),
      ms(value - plainMs),
      ratioRange(ratios),
      us(((value - plainMs) * 1000) / rows),
    ];
    tables.push({
      title: `findMany of ${count(rows)} rows × 3 encrypted fields`,
      columns: ['case', 'time', 'added over plain', 'added / floor (median, min–max)', 'added per row'],
      rows: [
        ['plain Prisma', ms(plainMs), '', '', ''],
        [
          'floor (bare crypto: 1 DEK unwrap + 3 decrypts per row)',
          ms(floorMs),
          '',
          '1.00×',
          us((floorMs * 1000) / rows),
        ],
        [
          'for reference: bare decrypts alone (DEKs already unwrapped)',
          ms(p(decryptsOnly)),
          '',
          ratio(p(decryptsOnly) / floorMs),
          us((p(decryptsOnly) * 1000) / rows),
        ],
        findRow('hushfield cold (fresh key and DEK caches)', coldMs, coldRatios),
        findRow('hushfield warm (DEK cache holds these rows)', warmMs, warmRatios),
        findRow('hushfield cold, one thread (`parallelDecrypt: false`)', p(coldOneThread), oneThreadRatios),
      ],
      notes: [
        `Cold: a new \`FieldCrypto\` per run, so scope keys come from the key store and keyring (keyring calls per cold read: ${coldCalls.join(', ')}) and every DEK is unwrapped.`,
        `Warm: the same client read repeatedly; DEK cache after the runs: ${count(warmStats.dekHits)} hits, ${count(warmStats.dekMisses)} misses.`,
        'The floor works on Buffers already in memory (no base64, no parsing); hushfield decodes strings from the database.',
        `Plaintext and sealed rows (${count(rows)} each) share the table, each read selecting its own by name (\`where: { name: { startsWith } }\`); plain, cold, warm and floor runs alternate. The ratio's range is over the ${cold.runsMs.length} rounds: each round's added time over plain Prisma's run of the round, against the round's floor run.`,
        `DESIGN.md states both targets against the floor with its DEK unwrap, which a warm read skips; against the bare decrypts alone, the warm added time is ${ratio((warmMs - plainMs) / p(decryptsOnly))}.`,
        `hushfield runs with its defaults: a read of 4,096 values or more is shared with the decrypt thread, which opens about half of them while the calling thread opens the rest (README, "Large reads"), so on this ${availableParallelism()}-CPU machine its cold and warm rows are wall time over two threads, against a floor run on one; the one-thread row is the same cold read with the decrypt thread off. What each costs in CPU time: bench/large-reads.ts (bench/FINDINGS.md).`,
      ],
    });
    // Verdicts follow the reported figure: the median of the per-run ratios.
    const addedCold = median(coldRatios);
    const addedWarm = median(warmRatios);

    const includePlainMs = p(included.plain);
    const includeFloorMs = p(included.floor);
    const includeColdMs = p(included.cold);
    const includeRatios = addedRatios(included.cold, included.floor, included.plain);
    const includeOneThreadMs = p(included.coldOneThread);
    const includeOneThreadRatios = addedRatios(included.coldOneThread, included.floor, included.plain);
    const addedInclude = median(includeRatios);
    const includeRows = parents * (1 + children);
    tables.push({
      title: `findMany of ${count(parents)} users including their posts (${count(parents * children)} posts)`,
      columns: ['case', 'time', 'added over plain', 'added / floor (median, min–max)', 'added per row'],
      rows: [
        ['plain Prisma', ms(includePlainMs), '', '', ''],
        [
          `floor (bare crypto: per user 1 DEK unwrap + 3 decrypts, per post 1 unwrap + 1 decrypt)`,
          ms(includeFloorMs),
          '',
          '1.00×',
          us((includeFloorMs * 1000) / includeRows),
        ],
        [
          'hushfield cold (fresh key and DEK caches)',
          ms(includeColdMs),
          ms(includeColdMs - includePlainMs),
          ratioRange(includeRatios),
          us(((includeColdMs - includePlainMs) * 1000) / includeRows),
        ],
        [
          'hushfield cold, one thread (`parallelDecrypt: false`)',
          ms(includeOneThreadMs),
          ms(includeOneThreadMs - includePlainMs),
          ratioRange(includeOneThreadRatios),
          us(((includeOneThreadMs - includePlainMs) * 1000) / includeRows),
        ],
      ],
      notes: [
        `\`findMany({ include: { posts: true } })\`: ${count(parents)} users (3 encrypted fields each, scope tenantId) with ${children} posts each (\`body\` encrypted, unscoped: scope \`default\`); per row means per user or post. Plain and sealed users and posts share the tables, each read selecting its users by name; plain, cold and floor runs alternate (${included.cold.runsMs.length} rounds, each round's added time against its plain and floor runs). The cold read (21,000 values) is shared with the decrypt thread, as above; the one-thread row is without it.`,
      ],
    });

    const uniqueRatio = median(uniqueRatios);
    const updateRatio = median(updateRatios);
    // What plain Prisma plus the bare crypto costs in place (the reference), beside each point operation's verdict.
    const withReference = (ratios: readonly number[], samples: Record<string, Samples>) =>
      `${ratioRange(ratios)}; reference (plain + bare crypto) ${ratio(median(pairRatios(samples.reference, samples.plain)))}`;
    targets.push(
      {
        target: `findMany ${count(rows)} × 3: added over plain ≤ 1.5× floor, cold`,
        measured: `${ratioRange(coldRatios)}; one thread ${ratio(median(oneThreadRatios))}`,
        met: addedCold <= 1.5,
      },
      {
        target: `findMany ${count(rows)} × 3: added over plain ≤ 1.5× floor, warm`,
        measured: ratioRange(warmRatios),
        met: addedWarm <= 1.5,
      },
      {
        target: `create ×${count(rows)} one by one ≤ 1.15× plain`,
        measured: withReference(roundRatios, creates),
        met: createRatio <= 1.15,
      },
      {
        target: `findUnique by blind index ≤ 1.1× plain Prisma + its HMAC`,
        measured: withReference(uniqueRatios, unique),
        met: uniqueRatio <= 1.1,
      },
      {
        target: `update of a seen row ≤ 1.15× plain`,
        measured: withReference(updateRatios, updated),
        met: updateRatio <= 1.15,
      },
      {
        target: `findMany ${count(parents)} users × ${children} posts (include): added over plain ≤ 1.5× floor, cold`,
        measured: `${ratioRange(includeRatios)}; one thread ${ratio(median(includeOneThreadRatios))}`,
        met: addedInclude <= 1.5,
      },
      {
        target: 'full-length index re-check ≤ 5 % of a findUnique',
        measured: `${((recheckUs / encLookupUs) * 100).toFixed(2)} %`,
        met: recheckUs / encLookupUs <= 0.05,
      },
    );

    const scaling = await runScaling({
      db,
      base,
      keyring,
      sizes: options.scaling ?? [1_000, 10_000, 100_000],
      tenants,
      plan,
      log,
    });
    tables.push(scaling.table);
    targets.push(scaling.target);
  } finally {
    await truncateUsers(db);
    await base.$disconnect();
  }

  return {
    id: 'prisma',
    title: 'prisma: plain Prisma vs the hushfield extension on PostgreSQL',
    command: 'pnpm bench prisma',
    intro:
      'The test schema (`prisma/schema.prisma`) `User` model: `email`, `ssn`, `notes` encrypted, blind ' +
      'indexes on email (full length, unique) and ssn (16 bits), scope = `tenantId`. One Prisma ' +
      `client (\`${ADAPTERS[db.provider]}\`) on a scratch database; "hushfield" is that client extended with ` +
      '`fieldEncryption({ schema, keyring: LocalKeyring, crypto })` with `PrismaKeyStore` on the same database. ' +
      'Every ratio is the median with its min–max over paired rounds or runs, so a reader can tell a miss from noise.',
    tables,
    targets,
  };
}

/** Per-round ratios of two cases sampled alternately (`a[i] / b[i]`). */
function pairRatios(a: Samples, b: Samples): number[] {
  return a.runsMs.map((value, i) => value / b.runsMs[i]);
}

/** Checks a read with include returned every user with its posts, decrypted. */
function verifyInclude(read: Record<string, unknown>[], expected: readonly UserInput[], children: number): void {
  verifyRead(read, expected);
  for (const row of read) {
    const posts = row.posts as { body: string }[];
    if (posts.length !== children || posts.some((post) => !post.body.startsWith('Post '))) {
      throw new Error('the encrypted client read back other posts than were written');
    }
  }
}
