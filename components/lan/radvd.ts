// radvd advertising the LAN /64 (HOWTO steps 3 and 21): installed, its
// configuration checked by radvd itself before it replaces the old one, and
// run as a service restarted when the configuration changes. When gw6c runs
// in router mode it starts radvd on its own (step 13): then this component
// must not exist, and the site does not create it.

import * as pulumi from "@pulumi/pulumi";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { Packages } from "../host/packages";
import { RemoteFile } from "../host/remote-file";
import { Service } from "../host/service";
import { RadvdConf, renderRadvdConf, validateRadvdConf } from "../render/radvd-conf";
import { resourceError } from "../user-error";

export interface RadvdArgs {
  readonly connection: pulumi.Input<ConnectionArgs>;
  /** The LAN interface. */
  readonly lanInterface: string;
  /** /64 prefixes to advertise for SLAAC (the global one, and a ULA one if any). */
  readonly prefixes: pulumi.Input<pulumi.Input<string>[]>;
  /** Seconds between unsolicited RAs. Defaults to radvd's (200-600 s). */
  readonly minInterval?: number;
  readonly maxInterval?: number;
  /** RFC 8106 DNS servers and search domains. Defaults to none. */
  readonly rdnss?: readonly string[];
  readonly dnssl?: readonly string[];
  /** Where the configuration goes. Defaults to /etc/radvd.conf. */
  readonly configPath?: string;
}

export function radvdModel(args: Pick<RadvdArgs, "lanInterface" | "minInterval" | "maxInterval" | "rdnss" | "dnssl">, prefixes: readonly string[]): RadvdConf {
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

export class Radvd extends pulumi.ComponentResource {
  /** The rendered radvd.conf. */
  readonly config: pulumi.Output<string>;
  readonly service: Service;

  constructor(name: string, args: RadvdArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ipv6gw:lan:Radvd", name, {}, opts);
    try {
      // Everything that does not depend on the prefix is checked now, at preview.
      validateRadvdConf(radvdModel(args, ["2001:db8::/64"]));
    } catch (e) {
      throw resourceError(`Radvd "${name}": ${(e as Error).message}`, this);
    }
    const conn = args.connection;
    const path = args.configPath ?? "/etc/radvd.conf";
    this.config = pulumi.output(args.prefixes).apply((p) => renderRadvdConf(radvdModel(args, p)));
    const packages = new Packages(`${name}-packages`, { connection: conn, names: ["radvd"] }, childOf(this, opts));
    const file = new RemoteFile(
      `${name}-conf`,
      { connection: conn, path, content: this.config, validate: `radvd --configtest -C %s` },
      childOf(this, opts, packages),
    );
    this.service = new Service(`${name}-service`, { connection: conn, name: "radvd", restartTrigger: file.sha256 }, childOf(this, opts, file));
    this.registerOutputs({ config: this.config });
  }
}
