// radvd advertising the LAN /64 (HOWTO steps 3 and 21): installed, its
// configuration checked by radvd itself before it replaces the old one, and
// run as a service restarted when the configuration changes. When gw6c runs
// in router mode it starts radvd on its own (step 13): then this component
// must not exist, and the site does not create it.

import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { Packages } from "../host/packages";
import { RemoteFile } from "../host/remote-file";
import { Service } from "../host/service";
import { Problem, parseArgs, problem } from "../problems";
import { absolutePath, domainName, ifname, inputOf, ipv6Address, strictObject } from "../schema-kit";
import { RadvdConf, renderRadvdConf, validateRadvdConf } from "../render/radvd-conf";

/** What a site's owner says about the router advertisements (the stack file's `radvd`). */
export const radvdSettingsShape = {
  minInterval: z.number().int().min(3).optional().describe("seconds between unsolicited RAs, at least; default radvd's (0.33 x maxInterval)"),
  maxInterval: z.number().int().min(4).max(1800).optional().describe("seconds between unsolicited RAs, at most; default radvd's 600"),
  rdnss: z.array(ipv6Address).default([]).describe("RFC 8106 DNS servers"),
  dnssl: z.array(domainName).default([]).describe("RFC 8106 search domains"),
};

export const radvdArgsSchema = strictObject({
  ...radvdSettingsShape,
  connection: inputOf<ConnectionArgs>("the connection"),
  lanInterface: ifname,
  prefixes: inputOf<pulumi.Input<string>[]>("the /64s to advertise for SLAAC (the global one, and a ULA one if any)"),
  configPath: absolutePath.default("/etc/radvd.conf"),
  startAfter: z
    .array(inputOf<pulumi.Resource>("a resource"))
    .optional()
    .describe("what starting radvd waits for, beyond what the component waits for (a site's firewall and forwarding): its package and config come before; default none"),
});

export type RadvdArgs = z.input<typeof radvdArgsSchema>;
type RadvdSettings = Pick<z.output<typeof radvdArgsSchema>, "lanInterface" | "minInterval" | "maxInterval" | "rdnss" | "dnssl">;

export function radvdModel(args: RadvdSettings, prefixes: readonly string[]): RadvdConf {
  return {
    interfaces: [
      {
        name: args.lanInterface,
        minRtrAdvInterval: args.minInterval,
        maxRtrAdvInterval: args.maxInterval,
        prefixes: prefixes.map((prefix) => ({ prefix, onLink: true, autonomous: true })),
        rdnss: args.rdnss,
        dnssl: args.dnssl,
      },
    ],
  };
}

/** What radvd itself would refuse, found now: everything but the prefixes (they may come from the tunnel at apply). Pure. */
export function radvdProblems(a: RadvdSettings): Problem[] {
  try {
    validateRadvdConf(radvdModel(a, ["2001:db8::/64"]));
    return [];
  } catch (e) {
    return [problem([], (e as Error).message)];
  }
}

/** What radvd needs. */
export const RADVD_PACKAGES: readonly string[] = ["radvd"];

export class Radvd extends pulumi.ComponentResource {
  /** The rendered radvd.conf. */
  readonly config: pulumi.Output<string>;
  readonly service: Service;

  constructor(name: string, args: RadvdArgs, opts?: pulumi.ComponentResourceOptions) {
    const a = parseArgs(`Radvd "${name}"`, radvdArgsSchema, args, radvdProblems);
    super("ipv6gw:lan:Radvd", name, {}, opts);
    const conn = a.connection;
    this.config = pulumi.output(a.prefixes).apply((p) => renderRadvdConf(radvdModel(a, p)));
    const packages = new Packages(`${name}-packages`, { connection: conn, names: [...RADVD_PACKAGES] }, childOf(this, opts));
    const file = new RemoteFile(`${name}-conf`, { connection: conn, path: a.configPath, content: this.config, validate: `radvd --configtest -C %s` }, childOf(this, opts, packages));
    this.service = new Service(`${name}-service`, { connection: conn, name: "radvd", restartTrigger: file.sha256 }, childOf(this, opts, file, ...(a.startAfter ?? [])));
    this.registerOutputs({ config: this.config });
  }
}
