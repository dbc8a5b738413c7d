import { declaredCollations } from './sqlite-collations';

describe('declaredCollations', () => {
  it("reads each column's COLLATE clause, in any quoting and case, and leaves columns without one out", () => {
    const sql = `CREATE TABLE "users" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "email_idx" TEXT NOT NULL COLLATE nocase,
    "twice" TEXT COLLATE NOCASE COLLATE rtrim,
    \`scope\` TEXT COLLATE "RTRIM" NOT NULL, -- a comment, with a comma
    [odd "name"] VARCHAR(10, 2) COLLATE binary /* , COLLATE NOCASE */,
    plain TEXT DEFAULT 'a, COLLATE NOCASE',
    checked TEXT CHECK (checked COLLATE NOCASE <> 'x'),
    CONSTRAINT "fk" FOREIGN KEY ("id") REFERENCES "other" ("id") ON DELETE CASCADE
)`;
    expect(Object.fromEntries(declaredCollations(sql))).toEqual({
      email_idx: 'NOCASE',
      scope: 'RTRIM',
      twice: 'RTRIM',
      'odd "name"': 'BINARY',
    });
  });

  it('reads nothing from text that declares no columns', () => {
    expect(declaredCollations('CREATE VIRTUAL TABLE t USING fts5').size).toBe(0);
    expect(declaredCollations('').size).toBe(0);
  });
});
