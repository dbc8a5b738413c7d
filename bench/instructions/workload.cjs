/**
 * The workload `bench/instructions.ts` runs under callgrind: seals ROWS rows of FIELDS (1 to 3)
 * text fields in ten scopes (one DEK per row, row id bound), then decrypts them all PASSES times,
 * each pass with a fresh `FieldCrypto` (cold: scope keys loaded, every DEK unwrapped and
 * cached) as `findMany` does. Plain CommonJS against a built core (CORE, a path to its
 * `index.js`), so nothing is transpiled under valgrind. Keys and data are fixed except the
 * random DEKs and nonces, which change bytes, not the code path.
 */
'use strict';
const { createCipheriv, createDecipheriv, randomBytes } = require('node:crypto');

/** With FLOOR=1: the same rows sealed and opened with bare node:crypto calls (bench/lib/bare-crypto.ts). */
function seal(key, plaintext, aad) {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad);
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function open(key, sealed, aad) {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12), { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const body = decipher.update(sealed.subarray(12, sealed.length - 16));
  decipher.final();
  return body;
}

function floor(rows, passes, fields) {
  const scopeKey = Buffer.alloc(32, 7);
  const aad = Buffer.from('hushfield/v1|users|email|0123456789abcdef|7d1f5c2e-3b7a-4a51-9d0c-2f6f0f3b9a11');
  const sealedRows = [];
  for (let i = 0; i < rows; i++) {
    const dek = randomBytes(32);
    const values = [`user.${i}@example.com`, '123-45-0000', `Some notes about customer number ${i} that run a while.`];
    const sealed = values.slice(0, fields).map((v) => seal(dek, Buffer.from(v), aad));
    sealedRows.push({ wrapped: seal(scopeKey, dek, aad), fields: sealed });
  }
  for (let pass = 0; pass < passes; pass++) {
    for (const row of sealedRows) {
      const dek = open(scopeKey, row.wrapped, aad);
      for (const field of row.fields) open(dek, field, aad).toString('utf8');
      dek.fill(0);
    }
  }
}

async function main() {
  const rows = Number(process.env.ROWS);
  const passes = Number(process.env.PASSES);
  const fields = Number(process.env.FIELDS);
  if (process.env.FLOOR === '1') return floor(rows, passes, fields);
  const { FieldCrypto, LocalKeyring, MemoryKeyStore } = require(process.env.CORE);
  const keyring = new LocalKeyring(Buffer.alloc(32, 7));
  const keyStore = new MemoryKeyStore();
  const cache = { ttlMs: 3_600_000 };
  const writer = new FieldCrypto({ keyring, keyStore, cache, dekCache: false });
  const items = [];
  for (let i = 0; i < rows; i++) {
    const scope = `tenant-${i % 10}`;
    const encryptor = await writer.rowEncryptor(scope);
    const rowId = `7d1f5c2e-3b7a-4a51-9d0c-${String(i).padStart(12, '0')}`;
    const values = {
      email: `user.${i}@example.com`,
      ssn: `123-45-${String(i % 10_000).padStart(4, '0')}`,
      notes: `Some notes about customer number ${i} that run a while.`,
    };
    for (const [field, value] of Object.entries(values).slice(0, fields)) {
      const ctx =
        process.env.ROW_SCOPE === '1' ? { model: 'users', field, rowId, scope } : { model: 'users', field, rowId };
      items.push({ value: encryptor.encrypt(value, ctx), ctx });
    }
    encryptor.dispose();
  }
  const dekCache = process.env.DEK_CACHE === 'off' ? { dekCache: false } : {};
  for (let pass = 0; pass < passes; pass++) {
    // One thread: the count is of the per-value path (a core before the decrypt thread ignores the option).
    const reader = new FieldCrypto({ keyring, keyStore, cache, ...dekCache, parallelDecrypt: false });
    const out = await reader.decryptMany(items);
    // A wrong result must not pass for a fast one.
    if (out.some((value) => typeof value !== 'string')) throw new Error('a value failed to decrypt');
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
