/**
 * Type-level checks of the extended client's result types, compiled (never run) by
 * `decrypt-error-types.test.ts`. Each `@ts-expect-error` must meet an error: an unused one
 * fails the compilation too.
 */
import { LocalKeyring } from '@hushfield/core';
import { fieldEncryption, type OnDecryptError } from '@hushfield/prisma';
import type { PrismaClient } from '../../prisma/generated/client/client';
import { hushfieldSchema } from '../../prisma/generated/hushfield';

declare const base: PrismaClient;
declare const configured: OnDecryptError;
const keyring = new LocalKeyring(Buffer.alloc(32));

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

const strict = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring }));
const throwing = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring, onDecryptError: 'throw' }));
const lenient = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring, onDecryptError: 'null' }));
const either = base.$extends(fieldEncryption({ schema: hushfieldSchema, keyring, onDecryptError: configured }));

export async function defaultThrows(): Promise<void> {
  const user = await strict.user.findFirstOrThrow();
  expectType<Equals<typeof user.email, string>>();
  expectType<Equals<typeof user.ssn, string | null>>();
  const thrown = await throwing.post.findFirstOrThrow();
  expectType<Equals<typeof thrown.body, string>>();
  strict.$hushfield.stats();
}

export async function nullReadsAreTyped(): Promise<void> {
  const user = await lenient.user.findFirstOrThrow();
  expectType<Equals<typeof user.email, string | null>>();
  expectType<Equals<typeof user.ssn, string | null>>();
  // plaintext columns and blind indexes keep their types
  expectType<Equals<typeof user.name, string>>();
  expectType<Equals<typeof user.emailIdx, string>>();
  // @ts-expect-error an encrypted field may read as null under onDecryptError: 'null'
  const email: string = user.email;

  const selected = await lenient.user.findMany({ select: { email: true, posts: { select: { body: true } } } });
  expectType<Equals<(typeof selected)[number]['email'], string | null>>();
  expectType<Equals<(typeof selected)[number]['posts'][number]['body'], string | null>>();

  const org = await lenient.organization.create({
    data: { slug: 's' },
    include: { members: { include: { invoices: true } } },
  });
  expectType<Equals<typeof org.legalName, string | null>>();
  expectType<Equals<(typeof org.members)[number]['email'], string | null>>();
  expectType<Equals<(typeof org.members)[number]['invoices'][number]['memo'], string | null>>();
  const removed = await lenient.invoice.delete({ where: { id: 'x' } });
  expectType<Equals<typeof removed.memo, string | null>>();

  await lenient.$transaction(async (tx) => {
    const inside = await tx.member.findUniqueOrThrow({ where: { id: 'x' } });
    expectType<Equals<typeof inside.email, string | null>>();
  });
  lenient.$hushfield.stats();
  void email;
}

export async function typedFieldsKeepTheirTypes(): Promise<void> {
  const sealed = await strict.document.findFirstOrThrow();
  const doc = await lenient.document.findFirstOrThrow();
  // Json, Bytes and String[] read as their own type, or null: never as a string
  expectType<Equals<typeof doc.body, typeof sealed.body | null>>();
  expectType<Equals<typeof doc.meta, typeof sealed.meta>>();
  expectType<Equals<typeof doc.blob, typeof sealed.blob>>();
  expectType<Equals<typeof doc.tags, typeof sealed.tags | null>>();
  expectType<Equals<typeof doc.note, string | null>>();
  const [picked] = await lenient.document.findMany({ select: { tags: true, blob: true } });
  expectType<Equals<typeof picked.tags, string[] | null>>();
  expectType<Equals<typeof picked.blob, typeof sealed.blob>>();
}

export async function unknownSettingIsNullable(): Promise<void> {
  const user = await either.user.findFirstOrThrow();
  expectType<Equals<typeof user.email, string | null>>();
}
