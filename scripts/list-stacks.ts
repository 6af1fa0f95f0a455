// `npm run --silent list-stacks`: the site stacks (stacks/Pulumi.<name>.yaml)
// as a JSON array, for CI matrices. The lab's stacks (lab, lab-*: they need
// the lab's boxes) and example-* stacks (not real sites) are left out.
import * as fs from "fs";
import * as path from "path";

export function siteStacks(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined && s !== "lab" && !s.startsWith("lab-") && !s.startsWith("example-"))
    .sort();
}

if (require.main === module) console.log(JSON.stringify(siteStacks(path.join(__dirname, "..", "stacks"))));
