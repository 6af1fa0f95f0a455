// `npm run check -- --stack <name>`: runs a site's checklist now, without
// changing anything (a refresh of its checks resource), and prints it.
import { checkResults, printResults, pulumi } from "./pulumi-run";

const i = process.argv.indexOf("--stack");
const stack = i >= 0 ? process.argv[i + 1] : undefined;
if (!stack) {
  console.error("usage: npm run check -- --stack <name>");
  process.exit(2);
}
const before = checkResults(stack);
if (!before) {
  console.error(`stack ${stack} has no site checks in its state: deploy it with checks configured first (pulumi up --stack ${stack})`);
  process.exit(1);
}
const refreshed = pulumi(["refresh", "--stack", stack, "--target", before.urn, "--yes", "--non-interactive", "--skip-preview"]);
if (refreshed.status !== 0) {
  console.error(`running the checks of ${stack} failed:\n${refreshed.stdout}\n${refreshed.stderr}`);
  process.exit(1);
}
process.exit(printResults(checkResults(stack)!.results) ? 0 : 1);
