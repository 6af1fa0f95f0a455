// Entry point of `npm run lab -- <verb>`: parse, check prerequisites, run the
// verb, and turn a LabError into its message and exit code.
import { spawn } from "child_process";
import { Command, parseArgs, USAGE } from "./args";
import { LabError } from "./errors";
import { execInteractive } from "./exec";
import { ispDhcp, ispRenumber } from "./isp";
import { down, reset, status, up } from "./lab";
import { restart } from "./restart";
import { labPaths, LabPaths } from "./paths";
import { assertPrereqs, searchPath } from "./prereqs";
import { sshCommand } from "./ssh";
import { readLabJson } from "./state";

const log = (line: string): void => console.log(`lab: ${line}`);

function sshInteractive(paths: LabPaths, box: string, user: string, command: readonly string[]): Promise<number> {
  const lab = readLabJson(paths);
  if (!lab) throw new LabError(`lab ssh: the lab is not up (no ${paths.labJson}); run 'npm run lab -- up'`);
  const b = lab.boxes[box as keyof typeof lab.boxes];
  if (!b) {
    const boxes = Object.keys(lab.boxes).join(", ");
    throw new LabError(`lab ssh: box ${box} is not part of the running lab (scenario ${lab.scenario}: ${boxes})`);
  }
  const { cmd, args } = sshCommand(paths, { host: b.host, port: b.port, viaNetns: b.viaNetns }, user, [], command);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: "inherit" });
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 255));
  });
}

async function main(command: Command, paths: LabPaths): Promise<number> {
  if (command.verb === "help") {
    console.log(USAGE);
    return 0;
  }
  assertPrereqs(command.verb);
  switch (command.verb) {
    case "up":
      await up(paths, command.scenario, log, command.clients);
      return 0;
    case "down":
      await down(paths, log);
      return 0;
    case "reset":
      await reset(paths, log);
      return 0;
    case "status":
      return status(paths, log);
    case "restart":
      await restart(paths, command.box, { hard: command.hard }, log);
      return 0;
    case "isp":
      if (command.action === "renumber") await ispRenumber(paths, log);
      else await ispDhcp(paths, command.action === "dhcp-stop" ? "stop" : "start", log);
      return 0;
    case "exec":
      return execInteractive(paths, command.box, command.command);
    case "ssh":
      return sshInteractive(paths, command.box, command.user, command.command);
  }
}

if (require.main === module) {
  process.env.PATH = searchPath().join(":");
  let command: Command;
  try {
    command = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(err instanceof LabError ? err.exitCode : 2);
  }
  main(command, labPaths()).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof LabError) {
        console.error(err.message);
        process.exit(err.exitCode);
      }
      console.error(err);
      process.exit(1);
    },
  );
}
