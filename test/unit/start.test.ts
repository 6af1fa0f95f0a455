// `npm start -- --stack <name>`: which stack, and which lab scenario it needs.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { labScenarioFor, stackArgument } from "../../scripts/start";

const stackFile = (name: string) => parse(fs.readFileSync(path.join(__dirname, "../../stacks", `Pulumi.${name}.yaml`), "utf8"));

describe("npm start", () => {
  it.each([
    [[], "lab"],
    [["--stack", "lab-native"], "lab-native"],
    [["--stack=lab-native"], "lab-native"],
  ])("takes the stack from %j", (argv, stack) => {
    expect(stackArgument(argv)).toBe(stack);
  });

  it("boots the scenario each lab stack needs: native for the DHCPv6-PD site, direct for the tunnelled one", () => {
    expect(labScenarioFor(stackFile("lab"))).toBe("direct");
    expect(labScenarioFor(stackFile("lab-native"))).toBe("native");
  });

  it("refuses a stack that is not a lab site (no ipv6gw:lab)", () => {
    expect(labScenarioFor(stackFile("example-native"))).toBeUndefined();
    expect(labScenarioFor(stackFile("example-gw6c"))).toBeUndefined();
  });
});
