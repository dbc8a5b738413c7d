/**
 * Messages any command may print: the executable, argument parsing and the diagnostics every
 * command shares, the configuration, the env file and options that take a secret. Part of the
 * CLI's catalog (`messages.ts`), under its rule: nothing secret is ever passed in.
 */

/** Messages of the executable, argument parsing, configuration and environment, by module. */
export const commonMessages = {
  /** The `hushfield` executable (`bin.ts`). */
  bin: {
    stopping: (signal: string) => `hushfield: ${signal}: stopping after the current batch (again to quit at once)`,
    unexpectedFailure: (errorName: string) => `hushfield: unexpected failure: ${errorName}`,
  },

  /** Argument parsing and the diagnostics every command shares (`program.ts`, `output.ts`). */
  run: {
    positiveInteger: (option: string) => `${option} must be a positive integer`,
    commandRequired: () => 'a command is required (hushfield --help lists them)',
    versionAlone: () => '--version (-V) takes no command: run hushfield --version',
    scaledOnly: (flags: readonly string[]) =>
      `${flags.join(' and ')} shape${flags.length === 1 ? 's' : ''} a scaled-out run only: add --run <id> or --workers <n> (or leave ${flags.length === 1 ? 'it' : 'them'} out)`,
    hint: (hint: string) => `hint: ${hint}`,
    warning: (line: string) => `warning: ${line}`,
    error: (reason: string, code: string) => `error: ${reason} [${code}]`,
    /** A Prisma or driver failure, reduced to its code and the names in its `meta` (`key=value ...`). */
    databaseRequestFailed: (code: string, where: string) =>
      `database request failed (${code}${where ? ` ${where}` : ''})`,
  },

  /** `hushfield.config.ts` (`config.ts`, `context.ts`). */
  config: {
    notFound: (path: string) => `config file not found: ${path}`,
    notFoundNearPrisma: (cwd: string) =>
      `no hushfield.config.ts found next to prisma.config.ts (searched from ${cwd}); pass --config <file>`,
    loadFailed: (path: string, reason: string) => `could not load ${path}: ${reason}`,
    noDefaultExport: (source: string) => `${source} must default-export defineConfig({...})`,
    schema: (source: string) => `${source}: 'schema' must be the generated hushfieldSchema (formatVersion 1)`,
    keyring: (source: string) => `${source}: 'keyring' must be a Keyring or a function returning one`,
    prisma: (source: string) => `${source}: 'prisma' must be a function returning a base PrismaClient`,
    cacheTtl: (source: string) => `${source}: 'cache.ttlMs' must be a positive number of milliseconds`,
    cache: (source: string) => `${source}: 'cache' must be an object with ttlMs (or left out)`,
    keyrings: (source: string) => `${source}: 'keyrings' must be an object of keyrings by name (or left out)`,
    namedKeyring: (source: string, name: string) =>
      `${source}: 'keyrings.${name}' must be a Keyring or a function returning one`,
    keyStore: (source: string) =>
      `${source}: 'keyStore' must be a KeyStore or a function of the client returning one (or left out)`,
    databaseUrl: (source: string) => `${source}: 'databaseUrl' must be a connection string (or left out)`,
    extendedClient: (path: string) =>
      `${path}: 'prisma' returned a hushfield-extended client; return the base PrismaClient ` +
      '(without $extends(fieldEncryption(...)))',
    unknownModel: (model: string, known: readonly string[]) => `unknown model ${model} (known: ${known.join(', ')})`,
    noEncryptedFields: (model: string) => `model ${model} has no encrypted fields`,
    actorFailed: (what: string) =>
      `'actor' ${what}: with an audit sink configured, every key and keyring event the CLI causes ` +
      'names who ran it, so the command does not run without one',
  },

  /** The `.env` file read before the configuration (`env-file.ts`). */
  envFile: {
    notFound: (path: string) => `env file not found: ${path}`,
    unreadable: (path: string) => `cannot read env file ${path}`,
    /** Where the CLI looked for `DATABASE_URL`: no env file read, a file without it, or no file. */
    missingDatabaseUrl: (envFile: { readonly path: string; readonly found: boolean } | undefined) => {
      const where =
        envFile === undefined
          ? 'no env file was read'
          : envFile.found
            ? `${envFile.path} does not set it`
            : `there is no ${envFile.path}`;
      return (
        `DATABASE_URL is not set (${where}): set it in the environment, in the .env next to ` +
        'hushfield.config.ts, or name a file with --dotenv'
      );
    },
  },

  /** Options that take a secret as `env:NAME` or `file:PATH` (`secret-arg.ts`); the secret is never named. */
  secretArg: {
    envUnset: (option: string, variable: string) => `${option}: environment variable ${variable} is not set`,
    fileUnreadable: (option: string, path: string) => `${option}: cannot read ${path}`,
  },
} as const;
