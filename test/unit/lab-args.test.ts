import { parseArgs } from "../../lab/args";
import { LabError, USAGE_EXIT } from "../../lab/errors";

describe("lab CLI arguments", () => {
  it.each([
    [[], { verb: "help" }],
    [["help"], { verb: "help" }],
    [["--help"], { verb: "help" }],
    [["up"], { verb: "up", scenario: "direct", clients: 2 }],
    [["up", "--scenario", "nat"], { verb: "up", scenario: "nat", clients: 2 }],
    [["up", "--scenario=direct"], { verb: "up", scenario: "direct", clients: 2 }],
    [["up", "--clients", "32"], { verb: "up", scenario: "direct", clients: 32 }],
    [["up", "--clients=8", "--scenario", "nat"], { verb: "up", scenario: "nat", clients: 8 }],
    [["down"], { verb: "down" }],
    [["reset"], { verb: "reset" }],
    [["status"], { verb: "status" }],
    [["exec", "c1", "--", "ping", "-c1", "192.0.2.1"], { verb: "exec", box: "c1", command: ["ping", "-c1", "192.0.2.1"] }],
    [["exec", "gw", "ip", "-6", "addr"], { verb: "exec", box: "gw", command: ["ip", "-6", "addr"] }],
    [["exec", "gw", "--", "sh", "-c", "exit 3", "--"], { verb: "exec", box: "gw", command: ["sh", "-c", "exit 3", "--"] }],
    [["ssh", "isp"], { verb: "ssh", box: "isp", user: "root", command: [] }],
    [["ssh", "gw", "--user", "admin", "--", "sudo", "-n", "true"], { verb: "ssh", box: "gw", user: "admin", command: ["sudo", "-n", "true"] }],
    [["ssh", "natbox", "--user=nosudo"], { verb: "ssh", box: "natbox", user: "nosudo", command: [] }],
    [["up", "--scenario", "native"], { verb: "up", scenario: "native", clients: 2 }],
    [["exec", "c32", "--", "true"], { verb: "exec", box: "c32", command: ["true"] }],
    [["restart", "gw"], { verb: "restart", box: "gw", hard: false }],
    [["restart", "c3", "--hard"], { verb: "restart", box: "c3", hard: true }],
    [["isp", "renumber"], { verb: "isp", action: "renumber" }],
    [["isp", "dhcp", "stop"], { verb: "isp", action: "dhcp-stop" }],
    [["isp", "dhcp", "start"], { verb: "isp", action: "dhcp-start" }],
  ])("%j", (argv, expected) => {
    expect(parseArgs(argv)).toEqual(expected);
  });

  it.each([
    [["frobnicate"], "lab: unknown verb 'frobnicate'; use one of: up, down, reset, status, restart, isp, ssh, exec, help"],
    [["exec", "router", "--", "true"], "lab exec: unknown box 'router'; the boxes are: gw, isp, outside, natbox, c1..c32"],
    [["ssh", "GW"], "lab ssh: unknown box 'GW'; the boxes are: gw, isp, outside, natbox, c1..c32"],
    [["exec", "c33", "--", "true"], "lab exec: unknown box 'c33'"],
    [["exec"], "lab exec: which box? Name one of: gw, isp, outside, natbox, c1..c32"],
    [["exec", "--", "true"], "lab exec: which box?"],
    [["exec", "c1", "--"], "lab exec: no command given; e.g. 'npm run lab -- exec c1 -- ip -6 addr'"],
    [["up", "--scenario", "bridge"], "lab up: --scenario must be one of direct, nat, native, got 'bridge'"],
    [["up", "--scenario"], "lab up: --scenario must be one of direct, nat, native, got ''"],
    [["up", "nat"], "lab up: unexpected argument 'nat'; the options are --scenario direct|nat|native and --clients N"],
    [["up", "--clients", "33"], "lab up: --clients must be a whole number from 2 to 32, got '33'"],
    [["up", "--clients", "1"], "lab up: --clients must be a whole number from 2 to 32, got '1'"],
    [["up", "--clients", "eight"], "lab up: --clients must be a number from 2 to 32, got 'eight'"],
    [["up", "--clients"], "lab up: --clients must be a number from 2 to 32, got ''"],
    [["up", "--scenario", "native", "--clients", "8"], "lab up: the native scenario has its two LAN clients and c3 on the second LAN; --clients is for the direct and nat scenarios"],
    [["down", "now"], "lab down: unexpected argument 'now'"],
    [["restart"], "lab restart: which box? Name one of: gw, isp, outside, natbox, c1..c32"],
    [["restart", "gw", "--soft"], "lab restart: unexpected argument '--soft'; the only option is --hard"],
    [["isp"], "lab isp: expected 'isp renumber', 'isp dhcp stop' or 'isp dhcp start', got 'isp'"],
    [["isp", "dhcp", "restart"], "got 'isp dhcp restart'"],
    [["isp", "renumber", "now"], "got 'isp renumber now'"],
    [["ssh", "gw", "hostname"], "lab ssh: unexpected argument 'hostname'; put the remote command after '--'"],
    [["ssh", "gw", "--user", "x;rm"], "lab ssh: 'x;rm' is not a user name"],
  ])("%j fails: %s", (argv, message) => {
    let err: unknown;
    try {
      parseArgs(argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).message).toContain(message);
    expect((err as LabError).message).toContain("Run 'npm run lab -- help' for usage.");
    expect((err as LabError).exitCode).toBe(USAGE_EXIT);
  });
});
