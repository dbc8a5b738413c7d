/**
 * Type-level checks of `fieldEncryption`'s options, compiled (never run) by
 * `decrypt-error-types.test.ts`: what the runtime refuses in every case does not compile.
 * Each `@ts-expect-error` must meet an error: an unused one fails the compilation too.
 */
import { FieldCrypto, LocalKeyring, MemoryKeyStore } from '@hushfield/core';
import { fieldEncryption, type FieldEncryptionOptions, type HushfieldSchema } from '@hushfield/prisma';
import { hushfieldSchema } from '../../prisma/generated/hushfield';

const keyring = new LocalKeyring(Buffer.alloc(32));
const crypto = new FieldCrypto({ keyring, keyStore: new MemoryKeyStore(), cache: { ttlMs: 60_000 } });
declare const partial: Partial<FieldEncryptionOptions>;

export function keyringOrCrypto(): void {
  fieldEncryption({ schema: hushfieldSchema, keyring });
  fieldEncryption({ schema: hushfieldSchema, keyring, keyStore: new MemoryKeyStore(), cache: { ttlMs: 1000 } });
  fieldEncryption({ schema: hushfieldSchema, crypto });
  fieldEncryption({ ...partial, schema: hushfieldSchema, keyring });
  // options built apart, typed as the options type, as a wrapper would
  const options: FieldEncryptionOptions = { schema: hushfieldSchema, keyring, onDecryptError: 'null' };
  fieldEncryption(options);
  fieldEncryption({ ...options, cache: { ttlMs: 1000 } });
  const shared: FieldEncryptionOptions = { schema: hushfieldSchema, crypto };
  fieldEncryption(shared);
  // @ts-expect-error neither keyring nor crypto: ConfigError at run time, whatever else is given
  fieldEncryption({ schema: hushfieldSchema });
  // @ts-expect-error neither keyring nor crypto
  fieldEncryption({ schema: hushfieldSchema, cache: { ttlMs: 1000 }, onDecryptError: 'null' });
  // @ts-expect-error a misspelled option
  fieldEncryption({ schema: hushfieldSchema, keyring, auditDecrypt: true });
}

export function migratingModels(): void {
  fieldEncryption({ schema: hushfieldSchema, keyring, migratingScopes: ['User', 'Invoice'] });
  fieldEncryption({ schema: hushfieldSchema, keyring, migratingBindings: ['Setting', 'Voucher'] });
  // @ts-expect-error a misspelled model: ConfigError at run time
  fieldEncryption({ schema: hushfieldSchema, keyring, migratingScopes: ['Usr'] });
  // @ts-expect-error a model without @encryption(scope: ...): ConfigError at run time
  fieldEncryption({ schema: hushfieldSchema, keyring, migratingScopes: ['Post'] });
  // @ts-expect-error a model without @encryption(bind: ...): ConfigError at run time
  fieldEncryption({ schema: hushfieldSchema, keyring, migratingBindings: ['User'] });
  // a schema typed only as HushfieldSchema names no model: any string, checked at run time
  const untyped: HushfieldSchema = hushfieldSchema;
  fieldEncryption({ schema: untyped, keyring, migratingScopes: ['User'], migratingBindings: ['Voucher'] });
}

/** A profile whose id is its user's: listed in migratingBindings (values sealed before its id was bound). */
const foreignKeyBound = {
  formatVersion: 1,
  keyStoreModel: 'HushfieldKey',
  models: {
    User: {
      ...hushfieldSchema.models.User,
      fields: { ...hushfieldSchema.models.User.fields },
    },
    Profile: {
      name: 'Profile',
      dbName: 'profiles',
      idFields: ['id'],
      idGeneration: 'none',
      bindRowId: true,
      fields: {
        id: { name: 'id', dbName: 'id', kind: 'scalar', type: 'String', isList: false, isRequired: true, isId: true },
        user: {
          ...{ name: 'user', dbName: 'user', kind: 'object', type: 'User', isList: false, isRequired: true },
          ...{ isId: false, relationModel: 'User', relationFromFields: ['id'], relationToFields: ['id'] },
        },
      },
      encrypted: { bio: { name: 'bio', dbName: 'bio', mode: 'strict', optional: true } },
      blindIndexes: {},
      uniqueIndexes: [],
    },
  },
} as const satisfies HushfieldSchema;

export function foreignKeyBoundModels(): void {
  fieldEncryption({ schema: foreignKeyBound, keyring, migratingBindings: ['Profile'] });
  // @ts-expect-error bound to its id, which is no foreign key: ConfigError at run time
  fieldEncryption({ schema: foreignKeyBound, keyring, migratingBindings: ['User'] });
}

export function sharedCrypto(): void {
  fieldEncryption({ schema: hushfieldSchema, crypto, keyring, onDecryptError: 'null', migratingScopes: ['Invoice'] });
  // @ts-expect-error the crypto's own audit sink is used: this one would receive nothing
  fieldEncryption({ schema: hushfieldSchema, crypto, audit: { emit: () => undefined } });
  // @ts-expect-error the crypto's cache is used
  fieldEncryption({ schema: hushfieldSchema, crypto, cache: { ttlMs: 1000 } });
}
