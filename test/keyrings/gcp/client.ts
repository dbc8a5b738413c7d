/**
 * How the tests point the official `@google-cloud/kms` client at the loopback fake: its REST
 * transport (`fallback: true`) over plain HTTP to the fake's port, with google-auth-library's
 * `PassThroughClient` (no credentials, no Authorization header; meant for emulators), and a
 * {@link GcpKmsKeyring} built on it.
 */
import { PassThroughClient } from 'google-auth-library';
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
