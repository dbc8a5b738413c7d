/**
 * Process exit codes of the `hushfield` command. Distinct so that scripts and CI can tell a
 * typo from a run that did part of its work from one that did none.
 */

/** The exit codes, stable across releases. */
export const ExitCode = {
  /** Everything asked for was done (or, for `doctor`, every check passed or only warned). */
  Ok: 0,
  /** Total failure: the command could not do its work (database, keyring, failed checks). */
  Failure: 1,
  /** Usage error: unknown option, bad argument, missing or invalid configuration. */
  Usage: 2,
  /** Partial failure: the run finished but some rows were left undone (unreadable, lost races). */
  Partial: 3,
  /**
   * The user stopped it: declined a confirmation (`keys shred`, nothing changed) or interrupted
   * a bulk run (Ctrl-C; it stopped after its last committed batch and resumes from there).
   */
  Aborted: 4,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
