// Golden-file assertion for renderer tests.
//
// expectGolden("radvd/howto.conf", text) compares `text` with
// test/unit/golden/radvd/howto.conf. Goldens are only ever (re)written when
// the environment variable UPDATE_GOLDEN=1 is set; review the diff of the
// golden files before committing them.

import * as fs from "fs";
import * as path from "path";

/** Root of the golden files: test/unit/golden. */
export const GOLDEN_DIR = path.join(__dirname, "golden");

function resolveGolden(relativePath: string): string {
  const normalized = path.posix.normalize(relativePath);
  if (path.isAbsolute(relativePath) || normalized.startsWith("..") || normalized === "." || relativePath.includes("\\")) {
    throw new Error(`expectGolden: '${relativePath}' must be a relative path below test/unit/golden, e.g. "radvd/howto.conf"`);
  }
  return path.join(GOLDEN_DIR, normalized);
}

/**
 * Asserts that `actual` equals the golden file `test/unit/golden/<relativePath>`.
 * With `UPDATE_GOLDEN=1` in the environment it writes `actual` there instead
 * (creating directories) and passes. A missing golden fails the test with
 * the command that creates it.
 */
export function expectGolden(relativePath: string, actual: string): void {
  const file = resolveGolden(relativePath);
  if (process.env.UPDATE_GOLDEN === "1") {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file)) {
    throw new Error(
      `golden file test/unit/golden/${relativePath} does not exist; create it with ` +
        `UPDATE_GOLDEN=1 npx jest --selectProjects unit <this test file>, then review it before committing`,
    );
  }
  const expected = fs.readFileSync(file, "utf8");
  // toBe shows a line diff on mismatch.
  expect(actual).toBe(expected);
}
