/**
 * `echokit plans`: lists the built-in plans.
 *
 * @module
 */
import { BUILTIN_PLANS } from "../loadgen/plans.ts";
import { type Command, type OptionSpecs, parseFlags } from "./args.ts";

const HELP = `Usage: echokit plans [--json]

Lists the built-in plans (threads × loops, ramp-up, message size).

Options:
  --json       print the plans as JSON
  -h, --help   show this help`;

/** The flags of `echokit plans`, as {@linkcode parseFlags} takes them. */
export const PLANS_FLAGS: OptionSpecs = { json: { type: "boolean" } };

/** The `plans` subcommand. */
export const plansCommand: Command = {
  name: "plans",
  summary: "list the built-in plans",
  help: HELP,
  run(args: string[]): Promise<number> {
    const { values } = parseFlags(args, PLANS_FLAGS);
    if (values.help) {
      console.log(HELP);
    } else if (values.json) {
      console.log(JSON.stringify(BUILTIN_PLANS, null, 2));
    } else {
      for (const plan of Object.values(BUILTIN_PLANS)) {
        const bytes = plan.messageSize ?? new TextEncoder().encode(plan.message).length;
        console.log(
          `${plan.name}  ${plan.threads} threads × ${plan.loops} loops, ramp-up ${plan.rampUp} s, ${bytes}-byte message`,
        );
      }
    }
    return Promise.resolve(0);
  },
};
