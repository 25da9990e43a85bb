/**
 * The CLI's subcommand shape, and the flag parsing every subcommand uses
 * (which lives in `util/flags.ts`, since the libraries define flags too).
 *
 * @module
 */
export * from "../util/flags.ts";

/** A subcommand of the CLI. */
export interface Command {
  /** The word that selects it (`serve`). */
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** Full help text shown by `echokit <name> --help` and after a usage error. */
  help: string;
  /**
   * Runs the command.
   *
   * @param args The arguments after the subcommand name.
   * @returns The process exit code.
   */
  run(args: string[]): Promise<number>;
}
