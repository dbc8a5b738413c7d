/**
 * CLI spans (see `@hushfield/core`'s telemetry): one per command and one per model of a bulk
 * run. Attributes name the command, the model and row counts: never a value, a key or a scope.
 */
import { inSpan } from '@hushfield/core';
import type { Command } from 'commander';
import type { MigrateResult } from './migrator-result';

/** The command's path under `hushfield` (`keys rotate`). */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at !== null && at.parent !== null; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** Runs a command's action inside span `hushfield.cli <path>`, recording its exit code. */
export function commandSpan(command: Command, run: () => Promise<number>): Promise<number> {
  const path = commandPath(command);
  return inSpan(`hushfield.cli ${path}`, { 'hushfield.cli.command': path }, async (span) => {
    const exitCode = await run();
    span.setAttribute('hushfield.cli.exit_code', exitCode);
    return exitCode;
  });
}

/** Runs one model of a bulk run inside span `hushfield.bulk`, recording its row counts. */
export function bulkModelSpan(mode: string, model: string, run: () => Promise<MigrateResult>): Promise<MigrateResult> {
  return inSpan('hushfield.bulk', { 'hushfield.bulk.mode': mode, 'hushfield.model': model }, async (span) => {
    const result = await run();
    for (const [key, value] of Object.entries(result)) {
      if (typeof value === 'number') span.setAttribute(`hushfield.bulk.${key}`, value);
    }
    if (result.stopped !== undefined) span.setAttribute('hushfield.bulk.stopped', result.stopped.code);
    return result;
  });
}
