/** Stops the PostgreSQL container `global-setup.ts` started, if any. */
export default async function globalTeardown(): Promise<void> {
  const container = (globalThis as { __fieldsealContainer?: { stop(): Promise<unknown> } }).__fieldsealContainer;
  if (container) await container.stop();
}
