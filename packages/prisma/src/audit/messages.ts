/** Messages of the Prisma audit sink and reader. */
export const messages = {
  noModel: (model: string) =>
    `the Prisma client has no model ${model}: add the HushfieldAuditEvent model (README, "Operating hushfield") ` +
    'to your schema, migrate, and run prisma generate',
  invalidArgument: (argument: string, requirement: string) => `${argument} ${requirement}`,
};
