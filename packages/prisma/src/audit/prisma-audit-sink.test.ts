import { InvalidArgumentError } from '@hushfield/core';
import { PrismaAuditSink } from './prisma-audit-sink';

// Writes to the database are tested in test/cli/audit-*.test.ts; these cover what must fail
// before the client is used.
/** A client with the audit model's delegate; never called here. */
const client = { hushfieldAuditEvent: { createMany: async () => undefined, findMany: async () => [] } };

describe('PrismaAuditSink configuration', () => {
  it.each([null, 42, 'not-options'])(
    'refuses options %p that are not an object with a typed error naming PrismaAuditSink',
    (options) => {
      const make = () => new PrismaAuditSink(client, options as never);
      expect(make).toThrow(InvalidArgumentError);
      expect(make).toThrow(
        new RegExp(`^PrismaAuditSink: options must be an object \\(or left out\\), got (null|number|string)$`),
      );
    },
  );
});
