// 48-bit MAC addresses: parse and normalize. No I/O.

const MAC_SHAPE = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

function macProblem(text: string): string | undefined {
  if (typeof text !== "string") return "expected a string";
  if (MAC_SHAPE.test(text)) return undefined;
  if (/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) return "it mixes ':' and '-' separators; use one of them";
  return "expected six 2-digit hex octets separated by ':' or '-' (e.g. 00:1d:09:76:f5:58)";
}

/**
 * Parses a MAC address written as six 2-digit hex octets separated by `:` or
 * `-` (one separator throughout), in any case, to 6 bytes.
 * Throws `'<input>' is not a MAC address: <why>`.
 */
export function parseMac(text: string): Uint8Array {
  const why = macProblem(text);
  if (why !== undefined) throw new Error(`'${String(text)}' is not a MAC address: ${why}`);
  return Uint8Array.from(text.split(/[:-]/).map((octet) => parseInt(octet, 16)));
}

/** True when {@link parseMac} accepts `text`. */
export function isMac(text: string): boolean {
  return macProblem(text) === undefined;
}

/** 6 bytes to lower-case colon form, e.g. `00:1d:09:76:f5:58`. */
export function formatMac(bytes: Uint8Array): string {
  if (bytes.length !== 6 || bytes.some((b) => b > 0xff)) {
    throw new Error(`a MAC address has 6 bytes, got ${bytes.length}`);
  }
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Normalizes any accepted MAC text to lower-case colon form (`00:1D-...` is rejected, see {@link parseMac}). */
export function normalizeMac(text: string): string {
  return formatMac(parseMac(text));
}
