/**
 * The rows the Prisma and KMS benchmarks write: `User` rows of the test schema with all three
 * encrypted fields set (email, ssn, notes), deterministic so every run writes the same bytes.
 */

/** What the application passes to `user.create` through the hushfield extension. */
export interface UserInput {
  tenantId: string;
  name: string;
  email: string;
  ssn: string;
  notes: string;
}

/** The same row for the plain client: it also fills the index columns, with plaintext. */
export interface PlainUserInput extends UserInput {
  emailIdx: string;
  ssnIdx: string;
}

/**
 * Row `i` of a batch tagged `tag` (tags keep emails unique across runs on one table).
 * @param tenants - how many scopes the rows spread over (`tenant-0` ... round robin)
 */
export function userInput(i: number, tag: string, tenants: number): UserInput {
  const serial = String(i).padStart(6, '0');
  return {
    tenantId: `tenant-${i % tenants}`,
    name: `User ${tag}-${serial}`,
    email: `user.${tag}.${serial}@example.com`,
    ssn: `${serial.slice(0, 3)}-${serial.slice(3, 5)}-${serial.slice(2, 6)}`,
    notes: `Prefers contact by post. Account reviewed on 2026-11-${String((i % 28) + 1).padStart(2, '0')}; no open issues (${tag}).`,
  };
}

/** The plain client's version of {@link userInput}: index columns hold the plaintext keys. */
export function plainUserInput(i: number, tag: string, tenants: number): PlainUserInput {
  const row = userInput(i, tag, tenants);
  return { ...row, emailIdx: row.email.trim().toLowerCase(), ssnIdx: row.ssn.replace(/\D/g, '') };
}

/** `count` rows starting at `from`. */
export function userInputs(from: number, count: number, tag: string, tenants: number): UserInput[] {
  return Array.from({ length: count }, (_, k) => userInput(from + k, tag, tenants));
}

/** `count` plain rows starting at `from`. */
export function plainUserInputs(from: number, count: number, tag: string, tenants: number): PlainUserInput[] {
  return Array.from({ length: count }, (_, k) => plainUserInput(from + k, tag, tenants));
}

/** Splits `items` into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
