// The box that becomes the gateway: its facts, the preflight that refuses a
// box which cannot do the job (at preview, before anything changes), and
// IPv6 forwarding (HOWTO step 11), persisted.

import * as pulumi from "@pulumi/pulumi";
import { childOf } from "../child-options";
import { ConnectionArgs } from "../host/connection";
import { HostFacts, HostFactsData } from "../host/host-facts";
import { Sysctl } from "../host/sysctl";
import { GatewayNeeds, gatewayProblems } from "../preflight";
import { resourceError } from "../user-error";

export interface GatewayHostArgs {
  /** How to reach the box. */
  readonly connection: pulumi.Input<ConnectionArgs>;
  /** The box's facts, read at preview with getHostFacts(); they decide what gets built. */
  readonly facts: HostFactsData;
  /** What the site needs of the box; checked against the facts. */
  readonly needs: GatewayNeeds;
  /**
   * The uplink takes router advertisements from the ISP: keep accepting them
   * with forwarding on (accept_ra=2). Requires `needs.uplinkInterface`. Defaults to false.
   */
  readonly uplinkAutoconf?: boolean;
}

export class GatewayHost extends pulumi.ComponentResource {
  /** Facts as read at preview. */
  readonly facts: HostFactsData;
  /** Facts as recorded in state (a refresh re-reads them). */
  readonly recordedFacts: pulumi.Output<HostFactsData>;
  /** The forwarding sysctl; the tunnel and radvd come after it. */
  readonly forwarding: Sysctl;

  constructor(name: string, args: GatewayHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ipv6gw:gateway:GatewayHost", name, {}, opts);
    const problems = gatewayProblems(args.facts, args.needs);
    if (problems.length > 0) {
      throw resourceError(
        `GatewayHost "${name}" (${args.facts.prettyName || args.facts.distro}, kernel ${args.facts.kernel}) cannot be this site's IPv6 gateway:\n` +
          problems.map((p) => `  - ${p}`).join("\n"),
        this,
      );
    }
    if (args.uplinkAutoconf && !args.needs.uplinkInterface) {
      throw resourceError(`GatewayHost "${name}": 'uplinkAutoconf' needs 'uplinkInterface'; name the interface facing the ISP`, this);
    }
    this.facts = args.facts;
    const facts = new HostFacts(`${name}-facts`, { connection: args.connection }, childOf(this, opts));
    this.recordedFacts = facts.facts;
    // The HOWTO's "net.ipv6.ip_forward" is not a Linux key; this is the one that turns forwarding on.
    this.forwarding = new Sysctl(`${name}-forwarding`, { connection: args.connection, key: "net.ipv6.conf.all.forwarding", value: "1" }, childOf(this, opts));
    if (args.uplinkAutoconf && args.needs.uplinkInterface) {
      // With forwarding on, the kernel ignores RAs unless accept_ra is 2.
      new Sysctl(
        `${name}-uplink-accept-ra`,
        { connection: args.connection, key: `net.ipv6.conf.${args.needs.uplinkInterface}.accept_ra`, value: "2" },
        childOf(this, opts, this.forwarding),
      );
    }
    this.registerOutputs({ facts: this.recordedFacts });
  }
}
