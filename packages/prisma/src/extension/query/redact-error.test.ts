import { Decimal } from '@prisma/client/runtime/client';
import { REDACTED, redactPlaintexts, redactText } from './redact-error';
import type { SchemaView } from '../schema-view';

function fieldsNamed(...names: string[]): Record<string, object> {
  return Object.fromEntries(names.map((name) => [name, { name }]));
}

const view = {
  schema: {
    models: {
      User: {
        encrypted: { email: {}, notes: {}, body: {} },
        blindIndexes: { emailIdx: {} },
        fields: fieldsNamed('id', 'name', 'email', 'notes', 'body', 'emailIdx', 'posts'),
        idFields: ['id'],
        uniqueIndexes: [],
      },
      Person: {
        encrypted: {},
        blindIndexes: {},
        matchIndexes: { nameMatch: {} },
        fields: fieldsNamed('orgId', 'name', 'nameMatch'),
        idFields: ['orgId', 'name'],
        uniqueIndexes: [{ name: 'orgId_nameMatch', fields: ['orgId', 'nameMatch'] }],
      },
    },
  },
} as unknown as SchemaView;

describe('redactText', () => {
  it('takes a string out where it is quoted, raw or JSON-escaped, and leaves bare words alone', () => {
    const text = 'email: "a\\"b@x.io"\nnotes: \'tea\' and tea-time\nname: "tea"\nArgument `data`: bare a"b@x.io';
    expect(redactText(text, ['a"b@x.io', 'tea', 'Argument'])).toBe(
      `email: "${REDACTED}"\nnotes: '${REDACTED}' and tea-time\nname: "${REDACTED}"\nArgument \`data\`: bare a"b@x.io`,
    );
  });
});

describe('redactPlaintexts', () => {
  it("withholds what the arguments give any model's encrypted and index fields, in the message, stack and causes", () => {
    const cause = new Error('driver said: invalid value "ssn-123-45"');
    const error = new TypeError('Invalid `prisma.user.findMany()`:\n  where: [{ email: "zed@example.com" }]', {
      cause,
    });
    const args = {
      where: [{ email: 'zed@example.com' }, { posts: { some: { notes: { equals: 'ssn-123-45' } } } }],
      data: { name: 'zed-the-name', emailIdx: 'zed@example.com', nameMatch: ['Zed Ex'] },
    };
    expect(redactPlaintexts(error, view, args)).toBe(error);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(`Invalid \`prisma.user.findMany()\`:\n  where: [{ email: "${REDACTED}" }]`);
    expect(error.stack).not.toContain('zed@example.com');
    expect(cause.message).toBe(`driver said: invalid value "${REDACTED}"`);
    // a field no model encrypts is left as Prisma printed it
    const other = new Error('name: "zed-the-name"');
    redactPlaintexts(other, view, args);
    expect(other.message).toBe('name: "zed-the-name"');
  });

  it('leaves an error alone when the arguments give no encrypted field, and passes non-errors through', () => {
    const error = new Error('email: "x@y.z"');
    redactPlaintexts(error, view, { where: { id: 'x@y.z' } });
    expect(error.message).toBe('email: "x@y.z"');
    expect(redactPlaintexts('not an error', view, { where: { email: 'x' } })).toBe('not an error');
  });

  it('takes out numbers, dates and each line of a multi-line value, as Prisma prints them', () => {
    const error = new Error(
      'data: [{ body: { pin: 4242424242, born: new Date("1971-02-03T04:05:06.789Z") } }]\n' +
        '  notes: "zed\u2028       secret@x.io"\n    at file.ts:4242:7',
    );
    const args = {
      data: [{ body: { pin: 4242424242, born: new Date('1971-02-03T04:05:06.789Z') }, notes: 'zed\u2028secret@x.io' }],
    };
    redactPlaintexts(error, view, args);
    expect(error.message).not.toContain('4242424242');
    expect(error.message).not.toContain('1971-02-03');
    expect(error.message).not.toContain('secret@x.io');
    expect(error.message).toContain('file.ts:4242:7');
  });

  it('takes out a bigint as Prisma prints it, with its `n` suffix', () => {
    const error = new Error('where: { posts: { some: 4242424242n } }\ndata: { body: 9191919191n }');
    redactPlaintexts(error, view, { where: { posts: { some: 4242424242n } }, data: { body: 9191919191n } });
    expect(error.message).toBe(`where: { posts: { some: ${REDACTED} } }\ndata: { body: ${REDACTED} }`);
  });

  it('takes out a Decimal as Prisma prints it, and keeps one given to a field that is not encrypted whole', () => {
    const amount = new Decimal('4242.4242');
    const error = new Error('where: [{ email: new Prisma.Decimal("4242.4242") }]');
    redactPlaintexts(error, view, { where: [{ email: amount }] });
    expect(error.message).toBe(`where: [{ email: new Prisma.Decimal("${REDACTED}") }]`);
    // Its sign, exponent and digit groups are not values of its own: nothing else is taken out.
    const kept = new Error('where: { id: 1, name: new Prisma.Decimal("12.5") }, take: 3');
    redactPlaintexts(kept, view, { where: { id: 1, name: new Decimal('12.5') }, take: 3 }, view.schema.models.User);
    expect(kept.message).toBe('where: { id: 1, name: new Prisma.Decimal("12.5") }, take: 3');
  });

  it('never throws: a frozen error, or one with a read-only message, is replaced by a redacted copy', () => {
    class QuotaError extends Error {
      readonly code = 'Q1';
    }
    const frozen = Object.freeze(new QuotaError('bad where [{"email":"zed@example.com"}]'));
    const out = redactPlaintexts(frozen, view, { where: [{ email: 'zed@example.com' }] }) as Error & { code: string };
    expect(out).not.toBe(frozen);
    expect(out.message).toBe(`bad where [{"email":"${REDACTED}"}]`);
    expect([out.name, out.code]).toEqual(['Error', 'Q1']);
    expect(out.stack).not.toContain('zed@example.com');
  });

  it('redacts the errors an AggregateError holds', () => {
    const inner = new Error('email: "zed@example.com"');
    const aggregate = new AggregateError([inner], 'two failures');
    redactPlaintexts(aggregate, view, { where: { email: 'zed@example.com' } });
    expect(inner.message).toBe(`email: "${REDACTED}"`);
  });

  it("takes out a JSON value's keys, but not filter operators nor the words of an ordinary message", () => {
    const error = new Error(
      'body: { acct-9931-secretkey: true }\nemail: { equals: "zed@example.com" }\n' +
        'Unique constraint failed on the fields: (`id`)\n    at file.ts:4242:7',
    );
    const args = {
      data: [{ body: { 'acct-9931-secretkey': true }, notes: 'Unique\nconstraint\nfailed\nfields' }],
      where: { email: { equals: 'zed@example.com' }, body: { pin: 4242 } },
    };
    redactPlaintexts(error, view, args);
    expect(error.message).toBe(
      `body: { ${REDACTED}: true }\nemail: { equals: "${REDACTED}" }\n` +
        'Unique constraint failed on the fields: (`id`)\n    at file.ts:4242:7',
    );
  });

  it("withholds a value under a name that is neither the schema's nor Prisma's (a mistyped field), not one under a known field", () => {
    const error = new Error(
      'where: { name: "zed", Email: "zed@example.com", orgId_name: { orgId: "o-1" } }\n' +
        'data: { emial: { set: "typed@example.com" }, orgId_nameMatch: "o-2" }',
    );
    const args = {
      where: { name: 'zed', Email: 'zed@example.com', orgId_name: { orgId: 'o-1' } },
      data: { emial: { set: 'typed@example.com' }, orgId_nameMatch: 'o-2' },
    };
    redactPlaintexts(error, view, args);
    expect(error.message).toBe(
      `where: { name: "zed", Email: "${REDACTED}", orgId_name: { orgId: "o-1" } }\n` +
        `data: { emial: { set: "${REDACTED}" }, orgId_nameMatch: "o-2" }`,
    );
  });

  it("withholds a value under another model's field when the operation's model is given, and follows relations to their target", () => {
    const posts = { name: 'posts', kind: 'object', type: 'Person' };
    const models = view.schema.models as unknown as Record<string, { fields: Record<string, object> }>;
    const user = { ...models.User, fields: { ...models.User.fields, posts } };
    const scoped = {
      schema: { models: { ...models, User: user } },
      relationTarget: (_: unknown, key: string) => (key === 'posts' ? models.Person : undefined),
    } as unknown as SchemaView;
    const error = new Error('data: { orgId: "o-1", posts: { create: { orgId: "o-2", id: "p-1" } } }');
    const args = { data: { orgId: 'o-1', posts: { create: { orgId: 'o-2', id: 'p-1' } } } };
    redactPlaintexts(error, scoped, args, user as never);
    // orgId is Person's field, not User's; id is User's, not Person's.
    expect(error.message).toBe(
      `data: { orgId: "${REDACTED}", posts: { create: { orgId: "o-2", id: "${REDACTED}" } } }`,
    );
  });

  it("withholds a value under one of Prisma's operators where the model's fields are expected (equals, in, set at the top of a where or data)", () => {
    const user = view.schema.models.User;
    const error = new Error(
      'where: { equals: "zed@example.com", in: ["ana@example.com"] }\ndata: { set: "bo@example.com" }',
    );
    const args = { where: { equals: 'zed@example.com', in: ['ana@example.com'] }, data: { set: 'bo@example.com' } };
    redactPlaintexts(error, view, args, user);
    expect(error.message).toBe(`where: { equals: "${REDACTED}", in: ["${REDACTED}"] }\ndata: { set: "${REDACTED}" }`);
    // under a scalar field the same operators are Prisma's, and that field's values stay
    const kept = new Error('where: { name: { equals: "zed", in: ["bo"] } }');
    redactPlaintexts(kept, view, { where: { name: { equals: 'zed', in: ['bo'] } }, data: { emial: 'x@y.z' } }, user);
    expect(kept.message).toBe('where: { name: { equals: "zed", in: ["bo"] } }');
  });

  it('withholds a string, number or date where Prisma takes an object (AND: email, where: [email], a relation given a value)', () => {
    const posts = { name: 'posts', kind: 'object', type: 'Person' };
    const models = view.schema.models as unknown as Record<string, { fields: Record<string, object> }>;
    const user = { ...models.User, fields: { ...models.User.fields, posts } };
    const scoped = { ...view, relationTarget: () => models.Person } as unknown as SchemaView;
    const error = new Error(
      'where: { AND: "zed@example.com", OR: ["ana@example.com", 4242424242] }\ndata: { posts: "bo-secret" }',
    );
    const args = {
      where: { AND: 'zed@example.com', OR: ['ana@example.com', 4242424242] },
      data: { posts: 'bo-secret' },
      take: 5,
    };
    redactPlaintexts(error, scoped, args, user as never);
    expect(error.message).toBe(
      `where: { AND: "${REDACTED}", OR: ["${REDACTED}", ${REDACTED}] }\ndata: { posts: "${REDACTED}" }`,
    );
  });

  it("withholds a value where a relation's nested writes, filter, selection or ordering take none; keeps directions, counts and field names", () => {
    const posts = { name: 'posts', kind: 'object', type: 'Person' };
    const models = view.schema.models as unknown as Record<string, { fields: Record<string, object> }>;
    const user = { ...models.User, fields: { ...models.User.fields, posts } };
    const scoped = { ...view, relationTarget: () => models.Person } as unknown as SchemaView;
    const error = new Error(
      'where: { posts: { set: "a-secret" } }, data: { posts: { disconnect: "b-secret", skipDuplicates: "c-secret" } }\n' +
        'include: { posts: { orderBy: { name: "desc" }, take: 5, skip: "d-secret", distinct: ["name", "e-secret"] } }\n' +
        'select: { name: "f-secret", g-secret-by: true }, by: "g-secret-by"',
    );
    const args = {
      where: { posts: { set: 'a-secret' } },
      data: { posts: { disconnect: 'b-secret', createMany: { data: [], skipDuplicates: 'c-secret' } } },
      include: { posts: { orderBy: { name: 'desc' }, take: 5, skip: 'd-secret', distinct: ['name', 'e-secret'] } },
      select: { name: 'f-secret' },
      by: 'g-secret-by',
    };
    redactPlaintexts(error, scoped, args, user as never);
    const r = REDACTED;
    expect(error.message).toBe(
      `where: { posts: { set: "${r}" } }, data: { posts: { disconnect: "${r}", skipDuplicates: "${r}" } }\n` +
        `include: { posts: { orderBy: { name: "desc" }, take: 5, skip: "${r}", distinct: ["name", "${r}"] } }\n` +
        `select: { name: "${r}", ${r}: true }, by: "${r}"`,
    );
  });

  it("tells a model's own encrypted fields from another model's when the model is given: Person.email is not User's", () => {
    const models = view.schema.models as unknown as Record<string, { fields: Record<string, object> }>;
    const person = { ...models.Person, fields: { ...models.Person.fields, email: { name: 'email' } } };
    const local = { schema: { models: { ...models, Person: person } } } as unknown as SchemaView;
    const error = new Error('where: { email: "zed@example.com", nameMatch: "zed" }');
    redactPlaintexts(error, local, { where: { email: 'zed@example.com', nameMatch: 'zed' } }, person as never);
    expect(error.message).toBe(`where: { email: "zed@example.com", nameMatch: "${REDACTED}" }`);
    // without the model, any model's encrypted field name is withheld
    const unknown = new Error('where: { email: "zed@example.com" }');
    redactPlaintexts(unknown, local, { where: { email: 'zed@example.com' } });
    expect(unknown.message).toBe(`where: { email: "${REDACTED}" }`);
  });
});
