/**
 * `echokit load` (not built yet).
 *
 * @module
 */
import { EchokitError } from "../errors.ts";
import { type Command, parseFlags } from "./args.ts";

const HELP = `Usage: echokit load [options]

Not built yet.`;

/** The `load` subcommand. */
export const loadCommand: Command = {
  name: "load",
  summary: "run a JMeter-style plan against a server",
  help: HELP,
  run(args: string[]): Promise<number> {
    const { values } = parseFlags(args, {});
    if (values.help) {
      console.log(HELP);
      return Promise.resolve(0);
    }
    throw new EchokitError('The "load" command is not built yet');
  },
};
