/**
 * `echokit compare` (not built yet).
 *
 * @module
 */
import { EchokitError } from "../errors.ts";
import { type Command, parseFlags } from "./args.ts";

const HELP = `Usage: echokit compare [options]

Not built yet.`;

/** The `compare` subcommand. */
export const compareCommand: Command = {
  name: "compare",
  summary: "run modes × plans side by side and print the table",
  help: HELP,
  run(args: string[]): Promise<number> {
    const { values } = parseFlags(args, {});
    if (values.help) {
      console.log(HELP);
      return Promise.resolve(0);
    }
    throw new EchokitError('The "compare" command is not built yet');
  },
};
