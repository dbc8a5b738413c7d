/**
 * How the tests point the official `@google-cloud/kms` client at the loopback fake: its REST
 * transport (`fallback: true`) over plain HTTP to the fake's port, with google-auth-library's
 * `PassThroughClient` (no credentials, no Authorization header; meant for emulators), and a
 * {@link GcpKmsKeyring} built on it.
 */
import { PassThroughClient } from 'google-auth-library';
import { KeyringError } from '@hushfield/core';
import { GcpKmsKeyring, type GcpKmsClientOptions, type GcpKmsKeyringOptions } from '@hushfield/kms-gcp';
import type { CloudKmsFake } from './server';

/** A CryptoKey name on the fake. */
export const KEY = 'projects/acme/locations/europe-west1/keyRings/hushfield/cryptoKeys/root';

/** Client options reaching `fake` (or any loopback port). */
export function fakeClientOptions(fake: Pick<CloudKmsFake, 'apiEndpoint' | 'port'>): GcpKmsClientOptions {
  return {
    fallback: true,
    apiEndpoint: fake.apiEndpoint,
    port: fake.port,
    protocol: 'http',
    authClient: new PassThroughClient(),
  };
}

/** A keyring on `fake`'s key {@link KEY} (unless `keyName` is given), closed by the caller. */
export function fakeKeyring(
  fake: Pick<CloudKmsFake, 'apiEndpoint' | 'port'>,
  options: Partial<GcpKmsKeyringOptions> = {},
): GcpKmsKeyring {
  return new GcpKmsKeyring({ keyName: KEY, clientOptions: fakeClientOptions(fake), ...options });
}

/** Keyrings a test file creates, closed together when it ends. */
export class KeyringPool {
  readonly #rings: GcpKmsKeyring[] = [];

  /** Remembers `ring` for {@link KeyringPool.close}; returns it. */
  add(ring: GcpKmsKeyring): GcpKmsKeyring {
    this.#rings.push(ring);
    return ring;
  }

  async close(): Promise<void> {
    await Promise.all(this.#rings.map((ring) => ring.close()));
  }
}

/** The `KeyringError` `promise` rejects with (failing the test when it resolves or throws anything else). */
export async function keyringFailure(promise: Promise<unknown>): Promise<KeyringError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyringError);
  return error as KeyringError;
}
