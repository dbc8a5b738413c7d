/** Helpers shared by the Azure keyring suites. */
import { KeyringError } from '@hushfield/core';
import { AzureKeyringError } from '@hushfield/kms-azure';

/** Awaits a promise that must reject with an `AzureKeyringError` (a core `KeyringError`), and returns it. */
export async function azureFailure(promise: Promise<unknown>): Promise<AzureKeyringError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AzureKeyringError);
  expect(error).toBeInstanceOf(KeyringError);
  return error as AzureKeyringError;
}
