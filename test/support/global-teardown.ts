/** Stops the PostgreSQL container `global-setup.ts` started, if any, and removes the SoftHSM token directory. */
export default async function globalTeardown(): Promise<void> {
  (await import('../keyrings/pkcs11/softhsm')).cleanupSoftHsm();
  const container = (globalThis as { __hushfieldContainer?: { stop(): Promise<unknown> } }).__hushfieldContainer;
  if (container) await container.stop();
}
