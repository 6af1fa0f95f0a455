// What the host needs for each verb, and the message that names the missing
// Debian package. The decision is pure (given a lookup); the lookup is I/O.
import * as fs from "fs";
import * as path from "path";
import { LabError } from "./errors";

export interface Tool {
  readonly command: string;
  readonly pkg: string;
}

const T = (command: string, pkg: string): Tool => ({ command, pkg });

const UP_TOOLS: readonly Tool[] = [
  T("systemd-nspawn", "systemd-container"),
  T("debootstrap", "debootstrap"),
  T("dpkg-scanpackages", "dpkg-dev"),
  T("ip", "iproute2"),
  T("ssh", "openssh-client"),
  T("ssh-keygen", "openssh-client"),
  T("nsenter", "util-linux"),
  T("mount", "mount"),
  T("umount", "mount"),
  T("sysctl", "procps"),
];

/** Host commands each verb runs. */
export const TOOLS_BY_VERB: Readonly<Record<string, readonly Tool[]>> = {
  up: UP_TOOLS,
  reset: UP_TOOLS,
  down: [T("ip", "iproute2"), T("umount", "mount")],
  exec: [T("nsenter", "util-linux")],
  ssh: [T("ssh", "openssh-client"), T("ip", "iproute2")],
  status: [T("ssh", "openssh-client"), T("ip", "iproute2")],
  restart: [T("systemd-nspawn", "systemd-container"), T("ip", "iproute2"), T("ssh", "openssh-client"), T("nsenter", "util-linux"), T("sysctl", "procps")],
  isp: [T("nsenter", "util-linux")],
};

/** Directories searched for commands, besides $PATH (sbin may be missing from it). */
export const EXTRA_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** The tools of `verb` that `has` says are missing. */
export function missingTools(verb: string, has: (command: string) => boolean): Tool[] {
  return (TOOLS_BY_VERB[verb] ?? []).filter((t) => !has(t.command));
}

/** The message for missing tools: each command with the package to install. */
export function missingToolsMessage(verb: string, missing: readonly Tool[]): string {
  const lines = missing.map((t) => `  ${t.command} not found: install the ${t.pkg} package`);
  const pkgs = [...new Set(missing.map((t) => t.pkg))].join(" ");
  return (
    `lab ${verb}: missing host tools:\n${lines.join("\n")}\n` +
    `Install them with 'apt-get install ${pkgs}' (scripts/prereqs.sh installs everything the lab needs).`
  );
}

/** The message when a verb is run by someone other than root. */
export function notRootMessage(verb: string, uid: number): string {
  return (
    `lab ${verb}: must run as root (uid 0), running as uid ${uid}: the lab creates network namespaces, ` +
    `mounts and containers. Run it with sudo, e.g. 'sudo npm run lab -- ${verb}'.`
  );
}

export function searchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...new Set([...(env.PATH ?? "").split(":").filter(Boolean), ...EXTRA_PATH])];
}

export function commandExists(command: string, dirs: readonly string[] = searchPath()): boolean {
  return dirs.some((d) => {
    try {
      fs.accessSync(path.join(d, command), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Kernel features `up` relies on; returns a message per missing one. */
export function kernelProblems(): string[] {
  const problems: string[] = [];
  let filesystems = "";
  try {
    filesystems = fs.readFileSync("/proc/filesystems", "utf8");
  } catch {
    problems.push("cannot read /proc/filesystems: is /proc mounted?");
  }
  if (filesystems && !/\boverlay\b/.test(filesystems)) {
    problems.push("the kernel has no overlay filesystem (boxes are overlayfs mounts): load it with 'modprobe overlay'");
  }
  if (!fs.existsSync("/dev/net/tun")) {
    problems.push("/dev/net/tun is missing (wireguard-go needs it): load the tun module with 'modprobe tun'");
  }
  return problems;
}

/** Throws a LabError unless the host can run `verb`: root, tools, and (for up) kernel features. */
export function assertPrereqs(verb: string): void {
  const uid = process.getuid ? process.getuid() : 0;
  if (uid !== 0) throw new LabError(notRootMessage(verb, uid));
  const dirs = searchPath();
  const missing = missingTools(verb, (c) => commandExists(c, dirs));
  if (missing.length > 0) throw new LabError(missingToolsMessage(verb, missing));
  if (verb === "up" || verb === "reset") {
    const problems = kernelProblems();
    if (problems.length > 0) throw new LabError(`lab ${verb}: this kernel cannot host the lab:\n  ${problems.join("\n  ")}`);
  }
}
