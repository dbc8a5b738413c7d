/**
 * Finds hushfield annotations where they would have no effect, which the model checks never
 * see: on an enum or one of its values. Each would leave a value the user meant to protect in
 * the clear without a word, so each is a problem, never ignored.
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
