/** Stops the PostgreSQL container `global-setup.ts` started, if any. */
export default async function globalTeardown(): Promise<void> {
  const container = (globalThis as { __hushfieldContainer?: { stop(): Promise<unknown> } }).__hushfieldContainer;
  if (container) await container.stop();
}
