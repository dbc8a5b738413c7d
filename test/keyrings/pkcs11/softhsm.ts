/**
 * SoftHSM v2 for the PKCS#11 suites: a token directory and configuration in a temp dir, tokens
 * initialised with `softhsm2-util`, AES keys created through PKCS#11 itself (`C_GenerateKey`
 * in a child process, so the test process's SoftHSM is first initialised by the code under
 * test). SoftHSM reads `SOFTHSM2_CONF` from the real process environment, which Jest's
 * sandbox cannot change, so `prepareSoftHsm` runs in Jest's global setup (before workers
 * start) and `SOFTHSM2_CONF` is then inherited.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's softhsm2 package puts the module here. */
export const SOFTHSM_LIBRARY = process.env.HUSHFIELD_SOFTHSM_LIBRARY ?? '/usr/lib/softhsm/libsofthsm2.so';
const PKCS11JS = join(__dirname, '..', '..', '..', 'packages', 'kms-pkcs11', 'node_modules', 'pkcs11js');

/** Why SoftHSM cannot be used here, or `undefined` when it can. */
export function softHsmMissing(): string | undefined {
  if (!existsSync(SOFTHSM_LIBRARY)) return `no SoftHSM module at ${SOFTHSM_LIBRARY} (apt-get install softhsm2)`;
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'softhsm2-util is not on PATH (apt-get install softhsm2)';
  }
  if (!process.env.SOFTHSM2_CONF || !existsSync(process.env.SOFTHSM2_CONF))
    return 'SOFTHSM2_CONF was not prepared by the global setup';
  return undefined;
}

/** Global setup: a private token directory and configuration, exported as `SOFTHSM2_CONF`. */
export function prepareSoftHsm(): void {
  if (process.env.SOFTHSM2_CONF || !existsSync(SOFTHSM_LIBRARY)) return;
  const dir = mkdtempSync(join(tmpdir(), 'hushfield-softhsm-'));
  mkdirSync(join(dir, 'tokens'));
  writeFileSync(
    join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  process.env.HUSHFIELD_SOFTHSM_DIR = dir;
}

/** Global teardown: removes what {@link prepareSoftHsm} made. */
export function cleanupSoftHsm(): void {
  const dir = process.env.HUSHFIELD_SOFTHSM_DIR;
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** A key to create on a test token. */
export interface TestKey {
  readonly label: string;
  /** Bytes; default 32. */
  readonly length?: number;
  /** CKA_SENSITIVE; default true. */
  readonly sensitive?: boolean;
}

/**
 * Initialises a token labelled `label` (in the first free slot) with `pin`, and creates
 * persistent AES keys on it.
 */
export function createSoftHsmToken(label: string, pin: string, keys: readonly TestKey[]): void {
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', `so-${pin}`], {
    stdio: 'ignore',
  });
  const script = `
    const p = require(${JSON.stringify(PKCS11JS)});
    const m = new p.PKCS11();
    m.load(${JSON.stringify(SOFTHSM_LIBRARY)});
    m.C_Initialize();
    try {
      const slot = m.C_GetSlotList(true).find((s) => m.C_GetTokenInfo(s).label.trimEnd() === ${JSON.stringify(label)});
      const session = m.C_OpenSession(slot, p.CKF_SERIAL_SESSION | p.CKF_RW_SESSION);
      m.C_Login(session, p.CKU_USER, ${JSON.stringify(pin)});
      for (const key of ${JSON.stringify(keys)}) {
        m.C_GenerateKey(session, { mechanism: p.CKM_AES_KEY_GEN }, [
          { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY }, { type: p.CKA_KEY_TYPE, value: p.CKK_AES },
          { type: p.CKA_VALUE_LEN, value: key.length ?? 32 }, { type: p.CKA_TOKEN, value: true },
          { type: p.CKA_LABEL, value: key.label }, { type: p.CKA_ENCRYPT, value: true }, { type: p.CKA_DECRYPT, value: true },
          { type: p.CKA_SENSITIVE, value: key.sensitive ?? true }, { type: p.CKA_EXTRACTABLE, value: false },
        ]);
      }
    } finally {
      m.C_Finalize();
    }`;
  execFileSync(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
}
