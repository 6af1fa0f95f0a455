// The program: one Ipv6Site from this stack's configuration
// (stacks/Pulumi.<stack>.yaml; the lab site is the embedded default).

import { ConfigSecrets } from "./components/config-secrets";
import { Ipv6Site } from "./components/site";
import { loadSiteArgs } from "./components/stack-config";

export = async () => {
  // First, so the policy pack (policy/) refuses plain-text secrets before anything else registers.
  new ConfigSecrets("stack-config");
  const site = new Ipv6Site("site", await loadSiteArgs());
  return {
    lanPrefix: site.lanPrefix,
    gatewayAddress: site.gatewayAddress,
    ...(site.ulaPrefix ? { ulaPrefix: site.ulaPrefix } : {}),
    clientAddresses: site.clientAddresses,
    tunnelInterface: site.tunnel.interface,
    firewallRules: site.firewallRules,
    checksPassed: site.checksPassed,
    checkResults: site.checkResults,
  };
};
