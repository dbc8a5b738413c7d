/**
 * `@hushfield/cli`: the `hushfield` command. The package exports `defineConfig` for
 * `hushfield.config.ts`, and `run` plus the building blocks for programmatic use and tests.
 */
export { defineConfig, loadConfig, findConfigPath, validateConfig } from './config';
export type { HushfieldConfig, LoadedConfig, BasePrismaClient, CliCacheOptions, Lazy } from './config';
export { run } from './program';
export type { RunOptions } from './program';
export { ExitCode } from './exit-codes';
export type { ExitCodeValue } from './exit-codes';
export type { CliIO } from './output';
export { CheckpointStore, checkpointId } from './checkpoint';
export type { Checkpoint, CheckpointDetail, CheckpointState } from './checkpoint';
export { PfeImporter, isPfeValue } from './pfe-import';
export { classifyExpiry, probeServerCertificate, connectionTls, tcpTarget } from './tls-probe';
export type { ServerCertificate, ConnectionTls } from './tls-probe';
