// Command-line parsing for `npm run lab -- <verb> ...`. Pure: returns the
// command or throws a usage error that says what was wrong.
import { usageError } from "./errors";
import { BOX_NAMES, BoxName, clientsProblem, DEFAULT_LAN_CLIENTS, isBoxName, MAX_LAN_CLIENTS, Scenario, SCENARIOS } from "./topology";

export type Command =
  | { readonly verb: "help" }
  | { readonly verb: "up"; readonly scenario: Scenario; readonly clients: number }
  | { readonly verb: "down" }
  | { readonly verb: "reset" }
  | { readonly verb: "status" }
  | { readonly verb: "ssh"; readonly box: BoxName; readonly user: string; readonly command: readonly string[] }
  | { readonly verb: "exec"; readonly box: BoxName; readonly command: readonly string[] }
  | { readonly verb: "restart"; readonly box: BoxName; readonly hard: boolean }
  | { readonly verb: "isp"; readonly action: IspAction };

export type IspAction = "renumber" | "dhcp-stop" | "dhcp-start";

export const USAGE = `Usage: npm run lab -- <verb> [options]

  up [--scenario direct|nat|native] [--clients N]
                               boot the lab (default scenario: direct); idempotent;
                               --clients: c1..cN on the LAN (${DEFAULT_LAN_CLIENTS}-${MAX_LAN_CLIENTS}, default ${DEFAULT_LAN_CLIENTS}; not native)
  down                         stop every box, remove namespaces, links, mounts and state
  reset                        back to blank boxes (fresh overlays, same scenario), no rebuild
  status                       scenario, and for each box: running, sshd answering
  restart <box> [--hard]       reboot one box keeping its disk, in a fresh network namespace
                               (kernel state lost); --hard: power loss, no shutdown
  isp renumber                 native: the ISP delegates a different prefix from now on;
                               the gw's next renew or rebind gets it, the old one with lifetime 0
  isp dhcp stop|start          native: take isp's DHCPv6 server (Kea) away, and back
  ssh <box> [--user U] [-- command...]
                               ssh into a box with the lab key and pinned host key
                               (users: root, admin with passwordless sudo, nosudo)
  exec <box> -- <command...>   run a command inside a box (as root, no ssh); exit code passed through
  help                         this text

Boxes: gw, c1, c2, isp, outside, natbox (only in the nat scenario), c3 (on the second LAN in
native, or with --clients 3 or more) and c4..c${MAX_LAN_CLIENTS} (with --clients).
Caches: \${IPV6GW_CACHE:-\${XDG_CACHE_HOME:-~/.cache}/ipv6gw}/lab; state: \${IPV6GW_LAB_DIR:-/var/lib/ipv6gw-lab} (lab.json).`;

/** The box names, short: the clients as a range. */
const BOXES_TEXT = `${BOX_NAMES.filter((b) => !/^c\d+$/.test(b)).join(", ")}, c1..c${MAX_LAN_CLIENTS}`;

function parseBox(verb: string, name: string | undefined): BoxName {
  if (name === undefined || name === "--") throw usageError(`lab ${verb}: which box? Name one of: ${BOXES_TEXT}`);
  if (!isBoxName(name)) throw usageError(`lab ${verb}: unknown box '${name}'; the boxes are: ${BOXES_TEXT}`);
  return name;
}

function noMoreArgs(verb: string, rest: readonly string[]): void {
  if (rest.length > 0) throw usageError(`lab ${verb}: unexpected argument '${rest[0]}'`);
}

export function parseArgs(argv: readonly string[]): Command {
  const [verb, ...rest] = argv;
  switch (verb) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return { verb: "help" };
    case "up": {
      let scenario: Scenario = "direct";
      let clients = DEFAULT_LAN_CLIENTS;
      for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        const [option, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
        const value = inline ?? rest[++i];
        if (option === "--scenario") {
          if (value === undefined || !(SCENARIOS as readonly string[]).includes(value)) {
            throw usageError(`lab up: --scenario must be one of ${SCENARIOS.join(", ")}, got '${value ?? ""}'`);
          }
          scenario = value as Scenario;
        } else if (option === "--clients") {
          if (value === undefined || !/^\d+$/.test(value)) throw usageError(`lab up: --clients must be a number from ${DEFAULT_LAN_CLIENTS} to ${MAX_LAN_CLIENTS}, got '${value ?? ""}'`);
          clients = Number(value);
        } else {
          throw usageError(`lab up: unexpected argument '${a}'; the options are --scenario ${SCENARIOS.join("|")} and --clients N`);
        }
      }
      const problem = clientsProblem(scenario, clients);
      if (problem) throw usageError(`lab up: ${problem}`);
      return { verb: "up", scenario, clients };
    }
    case "down":
    case "reset":
    case "status":
      noMoreArgs(verb, rest);
      return { verb };
    case "exec": {
      const box = parseBox("exec", rest[0]);
      const command = rest[1] === "--" ? rest.slice(2) : rest.slice(1);
      if (command.length === 0) throw usageError(`lab exec: no command given; e.g. 'npm run lab -- exec ${box} -- ip -6 addr'`);
      return { verb: "exec", box, command };
    }
    case "ssh": {
      const box = parseBox("ssh", rest[0]);
      let user = "root";
      let i = 1;
      for (; i < rest.length && rest[i] !== "--"; i++) {
        if (rest[i] === "--user" && rest[i + 1] !== undefined) user = rest[++i];
        else if (rest[i].startsWith("--user=")) user = rest[i].slice("--user=".length);
        else throw usageError(`lab ssh: unexpected argument '${rest[i]}'; put the remote command after '--'`);
      }
      if (!/^[a-z_][a-z0-9_-]*$/.test(user)) throw usageError(`lab ssh: '${user}' is not a user name`);
      return { verb: "ssh", box, user, command: rest.slice(i + 1) };
    }
    case "restart": {
      const box = parseBox("restart", rest[0]);
      let hard = false;
      for (const a of rest.slice(1)) {
        if (a === "--hard") hard = true;
        else throw usageError(`lab restart: unexpected argument '${a}'; the only option is --hard`);
      }
      return { verb: "restart", box, hard };
    }
    case "isp": {
      const [what, action, ...more] = rest;
      if (what === "renumber" && action === undefined) return { verb: "isp", action: "renumber" };
      if (what === "dhcp" && (action === "stop" || action === "start") && more.length === 0) {
        return { verb: "isp", action: action === "stop" ? "dhcp-stop" : "dhcp-start" };
      }
      throw usageError(`lab isp: expected 'isp renumber', 'isp dhcp stop' or 'isp dhcp start', got '${["isp", ...rest].join(" ")}'`);
    }
    default:
      throw usageError(`lab: unknown verb '${verb}'; use one of: up, down, reset, status, restart, isp, ssh, exec, help`);
  }
}
