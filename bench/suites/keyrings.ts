/**
 * keyrings: the key hierarchy's promise — at most one keyring call per key per cache TTL —
 * held by every keyring hushfield ships, each against what it talks to here: `LocalKeyring`,
 * `AwsKmsKeyring` on the KMS emulator, `VaultTransitKeyring` on the loopback Transit server,
 * `Pkcs11Keyring` on a SoftHSM v2 token (skipped, with the reason, where SoftHSM is missing),
 * `GcpKmsKeyring` through the official client on the loopback Cloud KMS fake,
 * `AzureKeyVaultKeyring` through the official SDK on the loopback HTTPS Key Vault fake.
 * The same rows and phases as the `kms` benchmark (write, cold read, warm read), per keyring.
 */
import { randomBytes } from 'node:crypto';
import { LocalKeyring, type Keyring } from '@hushfield/core';
import { AwsKmsKeyring } from '@hushfield/kms-aws';
import { Pkcs11Keyring } from '@hushfield/kms-pkcs11';
import { fakeKeyring, KEY } from '../../test/keyrings/gcp/client';
import { startCloudKmsFake } from '../../test/keyrings/gcp/server';
import { startAzureFake } from '../../test/keyrings/azure/server';
import { AzureKeyVaultKeyring } from '@hushfield/kms-azure';
import { VaultTransitKeyring } from '@hushfield/kms-vault';
import { kmsAdmin, startKmsEmulator } from '../../test/kms/emulator';
import {
  cleanupSoftHsm,
  createSoftHsmToken,
  prepareSoftHsm,
  softHsmMissing,
  SOFTHSM_LIBRARY,
} from '../../test/keyrings/pkcs11/softhsm';
import { startVaultServer } from '../../test/keyrings/vault/server';
import type { TestDatabase } from '../../test/support/database';
import { measureKeyringPhases, withinOneCallPerKey, type KeyringPhases } from '../lib/keyring-phases';
import { median, type RunPlan } from '../lib/measure';
import { plainClient, truncateUsers } from '../lib/prisma-clients';
import { count, ms, type Section, type TargetCheck } from '../lib/report';

/** Sizes and repetitions; the defaults are the published benchmark. */
export interface KeyringsBenchOptions {
  readonly db: TestDatabase;
  readonly rows?: number;
  readonly scopeCounts?: readonly number[];
  readonly plan?: RunPlan;
  readonly log?: (line: string) => void;
}

/** A keyring under test and how to release what it started. */
interface KeyringUnderTest {
  readonly name: string;
  readonly keyring: Keyring;
  close(): Promise<void>;
}

/** How to start one keyring kind, or why it cannot run here. */
interface KeyringKind {
  readonly name: string;
  readonly missing?: () => string | undefined;
  start(): Promise<KeyringUnderTest>;
}

let softHsmPreparedHere = false;

const KINDS: readonly KeyringKind[] = [
  {
    name: 'LocalKeyring (no remote service)',
    start: async () => ({
      name: 'LocalKeyring (no remote service)',
      keyring: new LocalKeyring(randomBytes(32), { id: 'bench-local' }),
      close: async () => undefined,
    }),
  },
  {
    name: 'AwsKmsKeyring (KMS emulator)',
    start: async () => {
      const emulator = await startKmsEmulator();
      const { arn } = await kmsAdmin(emulator).createKey({ description: 'hushfield keyrings bench' });
      const keyring = new AwsKmsKeyring({
        keyId: arn,
        clientConfig: { endpoint: emulator.endpoint, region: emulator.region, credentials: emulator.credentials },
      });
      return {
        name: 'AwsKmsKeyring (KMS emulator)',
        keyring,
        close: async () => {
          keyring.destroy();
          await emulator.stop();
        },
      };
    },
  },
  {
    name: 'VaultTransitKeyring (loopback Transit server)',
    start: async () => {
      const vault = await startVaultServer();
      vault.createKey('hushfield', { derived: true });
      const keyring = new VaultTransitKeyring({
        address: vault.address,
        keyName: 'hushfield',
        auth: { token: vault.createToken(['transit/encrypt/hushfield', 'transit/decrypt/hushfield']) },
      });
      return { name: 'VaultTransitKeyring (loopback Transit server)', keyring, close: () => vault.stop() };
    },
  },
  {
    name: 'GcpKmsKeyring (loopback Cloud KMS fake, REST transport)',
    start: async () => {
      const fake = await startCloudKmsFake();
      fake.createKey(KEY);
      const keyring = fakeKeyring(fake);
      return {
        name: 'GcpKmsKeyring (loopback Cloud KMS fake, REST transport)',
        keyring,
        close: async () => {
          await keyring.close();
          await fake.stop();
        },
      };
    },
  },
  {
    name: 'AzureKeyVaultKeyring (loopback HTTPS Key Vault fake, A256KW)',
    start: async () => {
      const fake = await startAzureFake({ kind: 'managedhsm' });
      fake.createKey('hushfield', 'oct-HSM');
      const keyring = new AzureKeyVaultKeyring(
        fake.keyringOptions({ clientOptions: { agent: fake.agent({ keepAlive: true }) } }),
      );
      return {
        name: 'AzureKeyVaultKeyring (loopback HTTPS Key Vault fake, A256KW)',
        keyring,
        close: () => fake.stop(),
      };
    },
  },
  {
    name: 'Pkcs11Keyring (SoftHSM v2 token)',
    missing: () => {
      // Under Jest the global setup has prepared SoftHSM (and removes it); alone, the bench does.
      softHsmPreparedHere = process.env.SOFTHSM2_CONF === undefined;
      prepareSoftHsm();
      return softHsmMissing();
    },
    start: async () => {
      const token = `hf-bench-${process.pid}`;
      const pin = '135790';
      createSoftHsmToken(token, pin, [{ label: 'hushfield-root' }]);
      const keyring = new Pkcs11Keyring({
        module: SOFTHSM_LIBRARY,
        tokenLabel: token,
        pin,
        keyLabel: 'hushfield-root',
      });
      return {
        name: 'Pkcs11Keyring (SoftHSM v2 token)',
        keyring,
        close: async () => {
          keyring.close();
          if (softHsmPreparedHere) cleanupSoftHsm();
        },
      };
    },
  },
];

/** Runs the keyrings benchmark. */
export async function runKeyringsBench(options: KeyringsBenchOptions): Promise<Section> {
  const { db } = options;
  const rows = options.rows ?? 2_000;
  const scopeCounts = options.scopeCounts ?? [1, 20];
  const plan = options.plan ?? { warmup: 1, runs: 3 };
  const log = options.log ?? (() => undefined);
  const base = plainClient(db);
  const resultRows: string[][] = [];
  const targets: TargetCheck[] = [];
  const skipped: string[] = [];
  try {
    for (const kind of KINDS) {
      const missing = kind.missing?.();
      if (missing !== undefined) {
        skipped.push(`${kind.name} not run: ${missing}.`);
        continue;
      }
      const underTest = await kind.start();
      try {
        for (let run = 0; run < plan.warmup; run += 1)
          await measureKeyringPhases(db, base, underTest.keyring, scopeCounts[0], Math.ceil(rows / 10), `rw${run}`);
        for (const scopes of scopeCounts) {
          log(`keyrings: ${kind.name}, ${count(rows)} rows in ${scopes} scope(s)`);
          const runs: KeyringPhases[] = [];
          for (let run = 0; run < plan.runs; run += 1)
            runs.push(await measureKeyringPhases(db, base, underTest.keyring, scopes, rows, `r${scopes}-${run}`));
          const pick = (f: (m: KeyringPhases) => number): number => median(runs.map(f));
          const worst = (f: (m: KeyringPhases) => number): number => Math.max(...runs.map(f));
          resultRows.push([
            kind.name,
            String(scopes),
            `${worst((m) => m.writeCalls)} / ${worst((m) => m.coldReadCalls)} / ${worst((m) => m.warmReadCalls)}`,
            String(scopes + 1),
            ms(pick((m) => m.writeMs)),
            ms(pick((m) => m.coldReadMs)),
            ms(pick((m) => m.warmReadMs)),
          ]);
          targets.push({
            target: `≤ 1 keyring call per key per TTL, ${kind.name}, ${scopes} scope${scopes === 1 ? '' : 's'}`,
            measured: `most over ${plan.runs} runs: write ${worst((m) => m.writeCalls)}, cold read ${worst((m) => m.coldReadCalls)}, warm read ${worst((m) => m.warmReadCalls)}`,
            met: runs.every((m) => withinOneCallPerKey(m, scopes)),
          });
        }
      } finally {
        await underTest.close();
      }
    }
    return {
      id: 'keyrings',
      title: 'keyrings: keyring calls per scope per TTL, for every keyring',
      command: 'pnpm bench keyrings',
      intro:
        `Each keyring wraps the scope and blind-index keys of ${count(rows)} \`User\` rows written with \`createMany\` (chunks of 1,000) ` +
        'from an empty key store, read back by a second client with fresh caches (cold) and once more by that client (warm); ' +
        'a counting wrapper counts the calls each phase makes to the keyring. Each service runs on loopback here (see the keyring names), ' +
        'so the times say what the calls cost on this machine, not over a network.',
      tables: [
        {
          title: 'Keyring calls and times by keyring',
          columns: [
            'keyring',
            'scopes',
            'keyring calls write / cold read / warm read (most over runs)',
            'keys in use (scope keys + index key)',
            'write',
            'read cold',
            'read warm',
          ],
          rows: resultRows,
          notes: [`Times are medians of ${plan.runs} runs after ${plan.warmup} warm-up run(s).`, ...skipped],
        },
      ],
      targets,
    };
  } finally {
    await truncateUsers(db);
    await db.query('TRUNCATE hushfield_keys');
    await base.$disconnect();
  }
}
