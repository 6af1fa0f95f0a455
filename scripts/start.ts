// `npm start`, the README's main command: the lab site, converged.
// Prerequisites and the Pulumi toolchain (cached), the lab (booted or
// reused), `pulumi up --refresh` on the lab stack (so a lab booted blank
// under old state is rebuilt, not trusted), then the HOWTO's checklist as
// the site's checks found it. The exit status says whether the site works.
import { spawnSync } from "child_process";
import { ROOT, checkResults, printResults, pulumi } from "./pulumi-run";

const STACK = "lab";

function step(title: string, cmd: string, args: string[]): void {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`start: ${title} failed (exit ${r.status}); see the output above`);
    process.exit(r.status ?? 1);
  }
}

if (process.getuid?.() !== 0) {
  console.error("start: the lab needs root (network namespaces, systemd-nspawn): run as root");
  process.exit(1);
}
step("prerequisites", "bash", ["scripts/prereqs.sh"]);
step("Pulumi toolchain", "bash", ["scripts/toolchain.sh"]);
step("lab", "npm", ["run", "--silent", "lab", "--", "up"]);

console.log(`\n== pulumi up --stack ${STACK}`);
const selected = pulumi(["stack", "select", "--create", STACK, "--non-interactive"]);
if (selected.status !== 0) {
  console.error(`start: cannot select or create stack ${STACK}: ${selected.stderr.trim()}`);
  process.exit(1);
}
const up = pulumi(["up", "--stack", STACK, "--refresh", "--yes", "--non-interactive", "--skip-preview"], { inherit: true });

console.log("\n== the HOWTO's checklist on the lab site");
const checks = checkResults(STACK);
const passed = checks ? printResults(checks.results) : false;
if (!checks) console.log("no checks ran: the update stopped before the site was complete (see above)");
process.exit(up.status === 0 && passed ? 0 : 1);
