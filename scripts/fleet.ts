// `npm run fleet -- preview`: every site stack previewed at once, with the
// policy pack, into one summary (scripts/fleet/). Exit status 1 when any site
// has errors or mandatory policy violations, 2 on a usage mistake.
import * as fs from "fs";
import * as path from "path";
import { parseFleetArgs } from "./fleet/options";
import { runFleet } from "./fleet/run";
import { fails } from "./fleet/site-result";
import { renderMarkdown, renderText } from "./fleet/summary";

// ts-node maps every stack frame through source maps, and Pulumi's runtime takes a stack for every
// promise and resource it makes (debuggablePromise, sourcePosition): a quarter of this process's time
// while ten sites run. The fleet reports errors by message, so V8's own traces (JS positions) do.
delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
// Pulumi's runtime logs about five debug lines per resource, each a Log call to the site's CLI that comes
// back as an engine event (half of a site's events): the summary never shows them, and the fleet has no
// --debug. Its resource code calls them through the log module's exports, so this silences them all.
(require("@pulumi/pulumi/log") as { debug: (...args: unknown[]) => Promise<void> }).debug = () => Promise.resolve();

async function main(): Promise<number> {
  let options;
  try {
    options = parseFleetArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const root = path.resolve(__dirname, "..");
  const run = await runFleet(root, options, (line) => console.error(`fleet: ${line}`));
  process.stdout.write(renderText(run));
  if (options.markdown) fs.writeFileSync(options.markdown, renderMarkdown(run));
  if (options.json) fs.writeFileSync(options.json, JSON.stringify(run, null, 2));
  return run.sites.some(fails) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`fleet: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
