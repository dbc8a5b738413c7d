/**
 * LocalStack as a KMS endpoint, through `@testcontainers/localstack`, where a container
 * runtime answers. Detection is quick: testcontainers reports a missing runtime immediately,
 * and then {@link startLocalStackKms} resolves `null` after printing a notice.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KmsTarget } from './admin';

/** A running LocalStack KMS. */
export interface LocalStackKms extends KmsTarget {
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  stop(): Promise<void>;
}

/**
 * Image used when Docker is available; override with `HUSHFIELD_LOCALSTACK_IMAGE`. Pinned: newer
 * LocalStack images may require `LOCALSTACK_AUTH_TOKEN` (passed through when set).
 */
export const LOCALSTACK_IMAGE = process.env.HUSHFIELD_LOCALSTACK_IMAGE ?? 'localstack/localstack:4.0';

/**
 * Synchronous first guess, for choosing `describe` vs `describe.skip` when a test file loads:
 * whether anything points at a Docker-compatible socket. {@link startLocalStackKms} then asks
 * testcontainers for real.
 */
export function containerRuntimeLikely(): boolean {
  if (process.env.HUSHFIELD_SKIP_LOCALSTACK === '1') return false;
  if (process.env.DOCKER_HOST) return true;
  const sockets = [
    '/var/run/docker.sock',
    join(homedir(), '.docker', 'run', 'docker.sock'),
    join(homedir(), '.testcontainers.properties'),
  ];
  return sockets.some((path) => existsSync(path));
}

/** Whether a container runtime answers (memoized). */
let runtime: Promise<boolean> | undefined;
export function containerRuntimeAvailable(): Promise<boolean> {
  if (process.env.HUSHFIELD_SKIP_LOCALSTACK === '1') return Promise.resolve(false);
  runtime ??= import('testcontainers')
    .then(async ({ getContainerRuntimeClient }) => {
      await getContainerRuntimeClient();
      return true;
    })
    .catch(() => false);
  return runtime;
}

/** Starts LocalStack with KMS, or returns `null` (with a printed notice) when no runtime answers. */
export async function startLocalStackKms(): Promise<LocalStackKms | null> {
  if (!(await containerRuntimeAvailable())) {
    process.stdout.write(
      'hushfield tests: no container runtime; skipping the LocalStack KMS run of the keyring suite.\n',
    );
    return null;
  }
  const { LocalstackContainer } = await import('@testcontainers/localstack');
  const token = process.env.LOCALSTACK_AUTH_TOKEN;
  const container = await new LocalstackContainer(LOCALSTACK_IMAGE)
    .withEnvironment({ SERVICES: 'kms', ...(token ? { LOCALSTACK_AUTH_TOKEN: token } : {}) })
    .start();
  return {
    endpoint: container.getConnectionUri(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    stop: async () => {
      await container.stop();
    },
  };
}
