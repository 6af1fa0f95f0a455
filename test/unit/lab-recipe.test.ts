import { downloadScript, releaseFile } from "../../lab/apt-repo";
import {
  APT_REPO_PACKAGES,
  BASE_PACKAGES,
  baseCustomizeScript,
  cacheKeys,
  INFRA_PACKAGES,
  infraCustomizeScript,
  OUTSIDE_PAGE_LINE,
  recipeHash,
} from "../../lab/recipe";

describe("cache recipes", () => {
  it("name cache entries by a hash of the recipe, stable across calls", () => {
    const keys = cacheKeys();
    expect(keys.base).toMatch(/^base-[0-9a-f]{16}$/);
    expect(keys.repo).toMatch(/^apt-repo-[0-9a-f]{16}$/);
    expect(keys.infra).toMatch(/^infra-[0-9a-f]{16}$/);
    expect(cacheKeys()).toEqual(keys);
  });

  it("change the hash when anything in the recipe changes", () => {
    expect(recipeHash({ packages: ["a", "b"] })).not.toBe(recipeHash({ packages: ["a", "c"] }));
    expect(recipeHash({ script: "x" })).not.toBe(recipeHash({ script: "x " }));
  });

  it("keep project packages out of the base tree and in the local repo", () => {
    for (const p of ["radvd", "iptables", "wireguard-go", "wireguard-tools", "net-tools", "build-essential"]) {
      expect(BASE_PACKAGES).not.toContain(p);
      expect(APT_REPO_PACKAGES).toContain(p);
    }
    for (const p of INFRA_PACKAGES) expect(APT_REPO_PACKAGES).toContain(p);
    for (const p of ["systemd", "openssh-server", "cron", "sudo", "iproute2", "curl"]) expect(BASE_PACKAGES).toContain(p);
  });

  it("points boxes' apt at the local repo only, and masks apt's timers", () => {
    const s = baseCustomizeScript();
    expect(s).toContain("echo 'deb [trusted=yes] file:/srv/ipv6gw-apt ./' > /etc/apt/sources.list");
    expect(s).toContain("rm -rf /var/lib/apt/lists/*");
    expect(s).toMatch(/systemctl mask .*apt-daily\.timer/);
    expect(s).toContain("PermitRootLogin prohibit-password");
    expect(s).toContain("admin ALL=(ALL:ALL) NOPASSWD: ALL");
    expect(s).not.toMatch(/nosudo ALL/);
    expect(s).toContain(": > /etc/machine-id");
  });

  it("serves the outside page and installs the infra packages from the local repo", () => {
    const s = infraCustomizeScript();
    expect(s).toContain(OUTSIDE_PAGE_LINE);
    expect(s).toContain("busybox httpd -f -p [::]:80");
    expect(s).toContain(`apt-get install -y --no-install-recommends ${INFRA_PACKAGES.join(" ")}`);
    expect(s).toContain("-j MASQUERADE");
  });

  it("downloads the repo's packages from Debian with their dependencies", () => {
    const s = downloadScript();
    expect(s).toContain("deb http://deb.debian.org/debian bookworm main");
    expect(s).toContain(`apt-get install -y -q --download-only --no-install-recommends ${APT_REPO_PACKAGES.join(" ")}`);
  });

  it("writes a Release file with the index hashes", () => {
    const text = releaseFile([{ name: "Packages", content: Buffer.from("abc") }], new Date(Date.UTC(2024, 0, 2, 3, 4, 5)));
    expect(text).toContain("Date: Tue, 02 Jan 2024 03:04:05 GMT\n");
    expect(text).toContain(" ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 3 Packages\n");
  });
});
