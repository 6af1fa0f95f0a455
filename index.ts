// The program: one Ipv6Site from this stack's configuration
// (stacks/Pulumi.<stack>.yaml; the lab site is the embedded default).

import { Ipv6Site } from "./components/site";
import { loadSiteArgs } from "./components/stack-config";

export = async () => {
  const site = new Ipv6Site("site", await loadSiteArgs());
  return {
    lanPrefix: site.lanPrefix,
    gatewayAddress: site.gatewayAddress,
    ...(site.ulaPrefix ? { ulaPrefix: site.ulaPrefix } : {}),
    // A native uplink: what the ISP delegated, as the gateway holds it (pulumi refresh reads it again).
    ...(site.delegatedPrefix ? { delegatedPrefix: site.delegatedPrefix, lanPrefixes: site.lanPrefixes } : {}),
    clientAddresses: site.clientAddresses,
    tunnelInterface: site.tunnel.interface,
    firewallRules: site.firewallRules,
    checksPassed: site.checksPassed,
    checkResults: site.checkResults,
  };
};
