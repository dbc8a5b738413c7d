import { REDACTED, redactPlaintexts, redactText } from './redact-error';
import type { SchemaView } from '../schema-view';

const view = {
  schema: {
    models: {
      User: { encrypted: { email: {}, notes: {} }, blindIndexes: { emailIdx: {} } },
      Person: { encrypted: {}, blindIndexes: {}, matchIndexes: { nameMatch: {} } },
    },
  },
} as unknown as SchemaView;

describe('redactText', () => {
  it('takes a value out where it is quoted, JSON-escaped or bare, and a short one only where quoted', () => {
    const text = 'email: "a\\"b@x.io"\nnotes: \'tea\' and tea-time\nname: "tea"\nbare a"b@x.io here';
    expect(redactText(text, ['a"b@x.io', 'tea'])).toBe(
      `email: "${REDACTED}"\nnotes: '${REDACTED}' and tea-time\nname: "${REDACTED}"\nbare ${REDACTED} here`,
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
});
