/** Stops the containers `global-setup.ts` started, if any, and removes the SoftHSM token directory. */
export default async function globalTeardown(): Promise<void> {
  (await import('../keyrings/pkcs11/softhsm')).cleanupSoftHsm();
  const started = globalThis as { __hushfieldContainer?: Stoppable; __hushfieldMariadb?: Stoppable };
  for (const container of [started.__hushfieldContainer, started.__hushfieldMariadb])
    if (container) await container.stop();
}

interface Stoppable {
  stop(): Promise<unknown>;
}
