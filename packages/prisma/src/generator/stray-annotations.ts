/**
 * Finds hushfield annotations where they would have no effect, which the model checks never
 * see: on an enum or one of its values (in the DMMF), and, in the schema text Prisma hands the
 * generator, in `//` comments (which Prisma drops), on fields and models Prisma leaves out of
 * its client (`@ignore`, `@@ignore`, `Unsupported(...)`) and on views. Each would leave a
 * value the user meant to protect in the clear, or unreadable, without a word: each is a
 * problem, never ignored.
 */
import type { DmmfEnum } from './dmmf';
import { classifyName } from './annotation-names';
import { messages } from './messages';
import { tokenize } from './tokenizer';

/** The first hushfield annotation (or lookalike of one) in `documentation`, without its `@`, or null. */
export function firstAnnotationName(documentation: string | undefined): string | null {
  const { annotations, problems } = tokenize(documentation, classifyName);
  return annotations[0]?.name ?? problems.find((p) => p.name !== '')?.name ?? null;
}

/** One `Enum: ...` or `Enum.VALUE: ...` problem per enum or enum value that carries a hushfield annotation. */
export function checkEnums(enums: readonly DmmfEnum[]): string[] {
  const problems: string[] = [];
  for (const enumeration of enums) {
    const onEnum = firstAnnotationName(enumeration.documentation);
    if (onEnum !== null) problems.push(`${enumeration.name}: ${messages.annotatedEnum(onEnum, 'enum')}`);
    for (const value of enumeration.values) {
      const onValue = firstAnnotationName(value.documentation);
      if (onValue !== null)
        problems.push(`${enumeration.name}.${value.name}: ${messages.annotatedEnum(onValue, 'enum value')}`);
    }
  }
  return problems;
}

/** One line split at its comment: the code before it, and the comment with its slashes. */
function splitComment(line: string): { code: string; comment: string | null } {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === '/' && line[i + 1] === '/') return { code: line.slice(0, i), comment: line.slice(i) };
  }
  return { code: line, comment: null };
}

/** `///` documentation (`////` too: Prisma reads "/ ..." as its text). */
const isDoc = (comment: string): boolean => comment.startsWith('///');

/**
 * The annotation an ordinary `//` comment starts with, as written (`@encrypted`,
 * `@encryption(scope: tenantId)`), when it is one of ours or a lookalike; prose that merely
 * mentions one later is left alone.
 */
function commentedAnnotation(comment: string): string | null {
  const text = comment.replace(/^\/+/, '').trim();
  if (!text.startsWith('@')) return null;
  const name = /^@([A-Za-z0-9_:]+)/.exec(text)?.[1];
  return name !== undefined && classifyName(name) !== 'foreign' ? text : null;
}

const BLOCK = /^(model|view|enum|type)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{/;
/** A field (`name Type attributes`), or an enum value (`NAME attributes`). */
const MEMBER = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s+([^\s@]\S*))?(.*)$/;

/** The comments above or beside one block or member: its documentation, and any `//` annotations. */
interface Comments {
  docs: string[];
  commented: string[];
}

/** Why Prisma leaves a block or member out of its client (or reads a view), or null. */
type LeftOut = '@ignore' | '@@ignore' | 'Unsupported' | 'view' | null;

interface Member extends Comments {
  readonly name: string;
  readonly leftOut: LeftOut;
}

interface Block extends Comments {
  readonly keyword: string;
  readonly name: string;
  readonly members: Member[];
  ignored: boolean;
}

/** The problems with one block's or member's comments, reported `at` it. */
function check(comments: Comments, at: string, level: 'model' | 'field', leftOut: LeftOut): string[] {
  const problems = comments.commented.map((annotation) => `${at}: ${messages.commentedAnnotation(annotation)}`);
  const name = leftOut === null ? null : firstAnnotationName(comments.docs.join('\n'));
  if (name !== null)
    problems.push(
      `${at}: ${leftOut === 'view' ? messages.annotatedView(name) : messages.annotatedLeftOut(name, level, leftOut!)}`,
    );
  return problems;
}

/** Reads the blocks of the schema text with their members and the comments of each. */
function readBlocks(datamodel: string): Block[] {
  const blocks: Block[] = [];
  let pending: Comments = { docs: [], commented: [] };
  let block: Block | null = null;
  for (const raw of datamodel.split('\n')) {
    const { code, comment } = splitComment(raw.trim());
    const line = code.trim();
    const doc = comment !== null && isDoc(comment) ? comment.slice(3).trim() : null;
    const commented = comment !== null && doc === null ? commentedAnnotation(comment) : null;
    if (doc !== null) pending.docs.push(doc);
    if (commented !== null) pending.commented.push(commented);
    if (line === '') continue;
    if (block === null) {
      const header = BLOCK.exec(line);
      if (header) {
        block = { keyword: header[1], name: header[2], members: [], ignored: false, ...pending };
        blocks.push(block);
      }
    } else if (line === '}') {
      block = null;
    } else if (line.startsWith('@@')) {
      if (/^@@ignore\b/.test(line)) block.ignored = true;
    } else {
      const member = MEMBER.exec(line);
      if (member) {
        const [, name, type = '', attributes] = member;
        const leftOut = type.startsWith('Unsupported(')
          ? 'Unsupported'
          : /(^|\s)@ignore\b/.test(attributes)
            ? '@ignore'
            : null;
        block.members.push({ name, leftOut, ...pending });
      }
    }
    pending = { docs: [], commented: [] };
  }
  return blocks;
}

/**
 * Checks the schema text Prisma gives the generator (`GeneratorOptions.datamodel`: every file
 * of the schema, formatted) for annotations the DMMF does not carry or that would do nothing.
 * @returns one `Model: ...` or `Model.field: ...` problem per such annotation.
 */
export function checkSchemaText(datamodel: string): string[] {
  const problems: string[] = [];
  for (const block of readBlocks(datamodel)) {
    // Annotations in an enum's documentation are checkEnums's (the DMMF has them).
    const skipDocs = block.keyword === 'enum' || block.keyword === 'type';
    const blockLeftOut: LeftOut = skipDocs
      ? null
      : block.keyword === 'view'
        ? 'view'
        : block.ignored
          ? '@@ignore'
          : null;
    problems.push(...check(block, block.name, 'model', blockLeftOut));
    for (const member of block.members)
      problems.push(
        ...check(member, `${block.name}.${member.name}`, 'field', skipDocs ? null : (blockLeftOut ?? member.leftOut)),
      );
  }
  return problems;
}
