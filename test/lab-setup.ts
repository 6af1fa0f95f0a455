// Jest globalSetup of the integration and e2e projects: makes sure the host
// has what the lab needs (scripts/prereqs.sh) and that the lab is up in the
// direct scenario, once, before any test runs. Fails loudly with the reason.
import { spawnSync } from "child_process";
import * as path from "path";

const REPO_ROOT = path.resolve(__dirname, "..");

function step(what: string, cmd: string, args: string[]): void {
  process.stderr.write(`\nlab-setup: ${what}: ${cmd} ${args.join(" ")}\n`);
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (r.error) throw new Error(`lab-setup: ${what}: could not run '${cmd}': ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`lab-setup: ${what} failed ('${cmd} ${args.join(" ")}' exited ${r.status ?? r.signal}); its output is above`);
  }
}

export default async function labSetup(): Promise<void> {
  const uid = process.getuid ? process.getuid() : 0;
  if (uid !== 0) {
    throw new Error(
      "lab-setup: integration and e2e tests boot the lab (network namespaces, mounts, systemd-nspawn) " +
        `and need root; running as uid ${uid}`,
    );
  }
  step("host prerequisites", "bash", [path.join(REPO_ROOT, "scripts", "prereqs.sh")]);
  step("bringing the lab up (direct scenario)", "npm", ["run", "--silent", "lab", "--", "up", "--scenario", "direct"]);
}
