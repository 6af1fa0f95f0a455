// @ts-check
"use strict";
// Preloaded (node -r) into the program and dynamic-provider processes that
// our language host and provider shim start: defers two modules
// @pulumi/pulumi loads at start but needs only to serialize a function
// (TypeScript's parser, about 0.3 s to load, and npm's arborist, about
// 0.2 s). Our resources store their provider as text
// (components/host/provider-reference.ts) and never serialize one; a
// program that does gets the real module on first use, as before.

const Module = require("module");

/** Requests deferred, as @pulumi/pulumi writes them; `esModule`: its importStar would copy every key at once. */
const DEFERRED = new Map([
  ["../../typescript-shim", { esModule: false }],
  ["./typescript-shim", { esModule: false }],
  ["@npmcli/arborist", { esModule: true }],
]);

/**
 * A stand-in that loads the real module on first use and forwards to it.
 * @param {() => object} load
 * @param {boolean} esModule
 */
function deferred(load, esModule) {
  /** @type {object | undefined} */
  let real;
  const target = () => (real ??= load());
  return new Proxy(
    {},
    {
      get: (_, key) => (key === "__esModule" && esModule ? true : Reflect.get(target(), key)),
      has: (_, key) => Reflect.has(target(), key),
      ownKeys: () => Reflect.ownKeys(target()),
      getOwnPropertyDescriptor: (_, key) => {
        const d = Reflect.getOwnPropertyDescriptor(target(), key);
        // The stand-in's own target has no such property: a proxy may not call it non-configurable.
        return d && { ...d, configurable: true };
      },
      set: (_, key, value) => Reflect.set(target(), key, value),
    },
  );
}

// @ts-expect-error Module._load is Node's internal loader, not in its types.
const load = Module._load;
// @ts-expect-error as above
Module._load = function (/** @type {string} */ request, /** @type {NodeJS.Module | undefined} */ parent, /** @type {boolean} */ isMain) {
  const d = DEFERRED.get(request);
  const from = parent?.filename ?? "";
  if (!d || !/[\\/]@pulumi[\\/]pulumi[\\/]/.test(from)) return load.call(this, request, parent, isMain);
  return deferred(() => load.call(this, request, parent, isMain), d.esModule);
};
