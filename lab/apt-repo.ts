// The local apt repository boxes install from instead of the internet. Its
// .debs are exactly what the listed packages need beyond the base tree: apt
// inside a throwaway overlay of the base tree downloads them, so the
// dependency closure is the one a box will ask for.
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { gzipSync } from "zlib";
import { LabError } from "./errors";
import { mountOverlay, unmountAll } from "./mounts";
import { nspawnScript } from "./nspawn";
import { APT_REPO_PACKAGES, DEBIAN } from "./recipe";
import { check } from "./run";

type Log = (line: string) => void;

/** The script that downloads the repository's .debs inside an overlay of the base tree. */
export function downloadScript(): string {
  return `set -eu
echo 'deb ${DEBIAN.mirror} ${DEBIAN.suite} main' > /etc/apt/sources.list
apt-get update -q
apt-get install -y -q --download-only --no-install-recommends ${APT_REPO_PACKAGES.join(" ")}
`;
}

/** A Release file for a flat repository holding the given index files. */
export function releaseFile(files: ReadonlyArray<{ name: string; content: Buffer }>, date: Date): string {
  const lines = [
    "Origin: ipv6gw-lab",
    "Label: ipv6gw-lab",
    `Date: ${date.toUTCString()}`,
    "Architectures: amd64 all",
    "Description: ipv6gw lab: packages boxes may install, served offline",
    "SHA256:",
    ...files.map((f) => ` ${createHash("sha256").update(f.content).digest("hex")} ${f.content.length} ${f.name}`),
  ];
  return lines.join("\n") + "\n";
}

export async function buildAptRepo(dir: string, base: string, log: Log): Promise<void> {
  const repo = path.join(dir, "repo");
  const overlay = {
    lower: [base],
    upper: path.join(dir, "dl", "upper"),
    work: path.join(dir, "dl", "work"),
    merged: path.join(dir, "dl", "merged"),
  };
  log(`downloading .debs for the local apt repo: ${APT_REPO_PACKAGES.join(" ")}`);
  await mountOverlay(overlay);
  try {
    await nspawnScript(`downloading the local apt repo's packages (needs ${DEBIAN.mirror})`, {
      root: overlay.merged,
      machine: "ipv6gw-build-repo",
      hostNetwork: true,
      script: downloadScript(),
    });
    const archives = path.join(overlay.merged, "var/cache/apt/archives");
    const debs = fs.readdirSync(archives).filter((f) => f.endsWith(".deb"));
    if (debs.length === 0) throw new LabError(`apt downloaded no packages into ${archives}`);
    fs.mkdirSync(repo, { recursive: true });
    for (const deb of debs) fs.copyFileSync(path.join(archives, deb), path.join(repo, deb));
    log(`local apt repo: ${debs.length} packages`);
  } finally {
    await unmountAll(overlay.merged);
  }
  fs.rmSync(path.join(dir, "dl"), { recursive: true, force: true });

  const scan = await check(`indexing the local apt repo in ${repo}`, "dpkg-scanpackages", ["--multiversion", ".", "/dev/null"], {
    cwd: repo,
  });
  const packages = Buffer.from(scan.stdout);
  const packagesGz = gzipSync(packages, { level: 9 });
  fs.writeFileSync(path.join(repo, "Packages"), packages);
  fs.writeFileSync(path.join(repo, "Packages.gz"), packagesGz);
  fs.writeFileSync(
    path.join(repo, "Release"),
    releaseFile(
      [
        { name: "Packages", content: packages },
        { name: "Packages.gz", content: packagesGz },
      ],
      new Date(),
    ),
  );
}
