// The native scenario's ISP: which prefixes it delegates in each epoch, and
// the Kea and radvd configurations the lab renders for isp.
import { delegatedPrefix, epochPool } from "../../lab/delegation";
import { renderIspRadvdConfig } from "../../lab/isp-radvd-config";
import { renderKeaConfig } from "../../lab/kea-config";
import { renumberScript } from "../../lab/isp";
import { NATIVE } from "../../lab/topology";
import { expectGolden } from "./golden";

describe("delegation epochs", () => {
  it.each([
    [0, "2001:db8:9900::/52", "2001:db8:9900::/56"],
    [1, "2001:db8:9900:1000::/52", "2001:db8:9900:1000::/56"],
    [2, "2001:db8:9900:2000::/52", "2001:db8:9900:2000::/56"],
    [16, "2001:db8:9901::/52", "2001:db8:9901::/56"],
    [4095, "2001:db8:99ff:f000::/52", "2001:db8:99ff:f000::/56"],
  ])("epoch %i: pool %s, first prefix %s", (epoch, pool, first) => {
    expect(epochPool(NATIVE, epoch)).toBe(pool);
    expect(delegatedPrefix(NATIVE, epoch)).toBe(first);
  });

  it("refuses an epoch beyond the /40 or not a whole number", () => {
    expect(() => epochPool(NATIVE, 4096)).toThrow();
    expect(() => epochPool(NATIVE, -1)).toThrow("epoch must be a whole number >= 0");
    expect(() => epochPool(NATIVE, 1.5)).toThrow("epoch must be a whole number >= 0");
  });

  it("keeps renumbering within 2 minutes on lab timers: the gw renews within T1, and T1 < T2 < preferred < valid", () => {
    const l = NATIVE.lifetimes;
    expect(l.renew).toBeLessThanOrEqual(60);
    expect(l.renew).toBeLessThan(l.rebind);
    expect(l.rebind).toBeLessThan(l.preferred);
    expect(l.preferred).toBeLessThan(l.valid);
  });
});

describe.each([
  ["after up: epoch 0", "epoch-0.conf", 0],
  ["after one `isp renumber`: epoch 1's pool", "epoch-1.conf", 1],
])("Kea config, %s", (_description, golden, epoch) => {
  it("matches its golden file and is JSON once its comment lines go", () => {
    const text = renderKeaConfig({ native: NATIVE, pool: epochPool(NATIVE, epoch), epoch });
    expectGolden(`lab-kea/${golden}`, text);
    const json = JSON.parse(text.replace(/^\/\/.*$/gm, ""));
    expect(json.Dhcp6.subnet6[0]["pd-pools"]).toEqual([{ prefix: epochPool(NATIVE, epoch).split("/")[0], "prefix-len": 52, "delegated-len": 56 }]);
  });
});

describe("isp radvd.conf", () => {
  it("announces the link's /64 with M and O set, as an ISP does (golden)", () => {
    expectGolden("lab-isp-radvd/native.conf", renderIspRadvdConfig(NATIVE));
  });
});

describe("isp renumber's script", () => {
  it("puts the config in place, then has a running Kea reload it and waits for its word", () => {
    const s = renumberScript();
    expect(s.indexOf("mv /etc/kea/kea-dhcp6.conf.new /etc/kea/kea-dhcp6.conf")).toBeLessThan(s.indexOf("-s HUP"));
    expect(s).toContain("systemctl -q is-active kea-dhcp6-server.service || exit 0");
    expect(s).toContain("*DHCP6_DYNAMIC_RECONFIGURATION_SUCCESS*) exit 0;;");
  });
});
