// Three projects: unit tests are pure or mocked and run anywhere; integration
// and e2e tests drive the lab (root, systemd-nspawn) and share it, so the whole
// run is serial (see scripts/test.sh).
const ts = { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: { warnOnly: false } }] };
// Pulumi state and the fleet's compiled policy pack live under .pulumi/: not modules of this project.
const ignore = { modulePathIgnorePatterns: ["<rootDir>/.pulumi/"] };

module.exports = {
  projects: [
    { displayName: "unit", testEnvironment: "node", transform: ts, ...ignore, testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    {
      displayName: "integration",
      testEnvironment: "node",
      ...ignore,
      // The SSH connection pool lives on globalThis on purpose (see components/host/ssh-transport.ts).
      testEnvironmentOptions: { globalsCleanup: "off" },
      transform: ts,
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/test/lab-setup.ts",
    },
    {
      displayName: "e2e",
      testEnvironment: "node",
      ...ignore,
      transform: ts,
      testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
      globalSetup: "<rootDir>/test/lab-setup.ts",
    },
  ],
};
