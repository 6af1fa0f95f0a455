// Which package and service managers a box has, detected the same way by
// every resource that needs to know (shell snippets that print one word).

export const PACKAGE_MANAGERS = ["apt", "dnf", "yum", "urpmi", "emerge", "apk"] as const;
export type PackageManager = (typeof PACKAGE_MANAGERS)[number];

export const SERVICE_MANAGERS = ["systemd", "openrc", "sysv"] as const;
export type ServiceManager = (typeof SERVICE_MANAGERS)[number];

/** Prints the package manager's name, or nothing. Order matters: dnf boxes also have yum. */
export const DETECT_PACKAGE_MANAGER = [
  "if command -v apt-get >/dev/null 2>&1; then echo apt",
  "elif command -v dnf >/dev/null 2>&1; then echo dnf",
  "elif command -v yum >/dev/null 2>&1; then echo yum",
  "elif command -v urpmi >/dev/null 2>&1; then echo urpmi",
  "elif command -v emerge >/dev/null 2>&1; then echo emerge",
  "elif command -v apk >/dev/null 2>&1; then echo apk",
  "fi",
].join("\n");

/** Prints the service manager's name, or nothing. systemd counts only when it runs as init. */
export const DETECT_SERVICE_MANAGER = [
  "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then echo systemd",
  "elif command -v openrc >/dev/null 2>&1 || command -v rc-service >/dev/null 2>&1; then echo openrc",
  "elif [ -d /etc/init.d ] && { command -v chkconfig >/dev/null 2>&1 || command -v update-rc.d >/dev/null 2>&1; }; then echo sysv",
  "fi",
].join("\n");

export function noPackageManager(where: string): Error {
  return new Error(
    `no supported package manager on ${where}: found none of apt-get, dnf, yum, urpmi, emerge, apk. Install the packages by hand and drop them from the stack, or add support for this distribution`,
  );
}

export function noServiceManager(where: string): Error {
  return new Error(
    `no supported service manager on ${where}: not systemd (running as init), OpenRC (rc-service) or SysV init (/etc/init.d with chkconfig or update-rc.d)`,
  );
}
