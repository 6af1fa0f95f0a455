import { missingTools, missingToolsMessage, notRootMessage, TOOLS_BY_VERB } from "../../lab/prereqs";

describe("lab prerequisites", () => {
  it("names the Debian package of each missing command", () => {
    const missing = missingTools("up", (c) => !["systemd-nspawn", "debootstrap"].includes(c));
    expect(missing).toEqual([
      { command: "systemd-nspawn", pkg: "systemd-container" },
      { command: "debootstrap", pkg: "debootstrap" },
    ]);
    const msg = missingToolsMessage("up", missing);
    expect(msg).toContain("systemd-nspawn not found: install the systemd-container package");
    expect(msg).toContain("debootstrap not found: install the debootstrap package");
    expect(msg).toContain("apt-get install systemd-container debootstrap");
    expect(msg).toContain("scripts/prereqs.sh");
  });

  it("lists each package once even when several of its commands are missing", () => {
    const missing = missingTools("up", (c) => !c.startsWith("ssh"));
    expect(missing.map((t) => t.command)).toEqual(["ssh", "ssh-keygen"]);
    expect(missingToolsMessage("up", missing)).toContain("'apt-get install openssh-client'");
  });

  it("finds nothing missing when every command exists", () => {
    for (const verb of Object.keys(TOOLS_BY_VERB)) expect(missingTools(verb, () => true)).toEqual([]);
  });

  it("needs nothing for a verb it does not know (help)", () => {
    expect(missingTools("help", () => false)).toEqual([]);
  });

  it("checks up and reset for the same tools, dpkg-scanpackages among them", () => {
    expect(TOOLS_BY_VERB.reset).toEqual(TOOLS_BY_VERB.up);
    expect(TOOLS_BY_VERB.up).toContainEqual({ command: "dpkg-scanpackages", pkg: "dpkg-dev" });
  });

  it("says root is needed, and how to get it", () => {
    expect(notRootMessage("up", 1000)).toBe(
      "lab up: must run as root (uid 0), running as uid 1000: the lab creates network namespaces, mounts and containers. " +
        "Run it with sudo, e.g. 'sudo npm run lab -- up'.",
    );
  });
});
