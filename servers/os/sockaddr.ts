/**
 * `struct sockaddr_in` encoding and decoding: IPv4 address and port as the
 * kernel wants them. Pure functions, testable without FFI.
 *
 * @module
 */
import type { Platform } from "./platform.ts";

/** The parts of a {@linkcode Platform} that shape a `sockaddr_in`. */
export type SockaddrLayout = Pick<Platform, "AF_INET" | "SOCKADDR_IN_SIZE" | "SOCKADDR_HAS_LEN">;

/** An IPv4 host and port. */
export interface Ipv4Addr {
  /** Dotted quad, e.g. `127.0.0.1`. */
  hostname: string;
  /** The port. */
  port: number;
}

/**
 * Parses an IPv4 literal (or `localhost`) into its four bytes.
 *
 * @param hostname E.g. `127.0.0.1`, `0.0.0.0` or `localhost`.
 * @returns The bytes in network order, or `undefined` when it is not IPv4.
 *
 * @example Usage
 * ```ts
 * import { parseIpv4 } from "./sockaddr.ts";
 * console.log(parseIpv4("10.0.0.1")); // Uint8Array [10, 0, 0, 1]
 * ```
 */
export function parseIpv4(hostname: string): Uint8Array | undefined {
  if (hostname === "localhost") return Uint8Array.of(127, 0, 0, 1);
  const parts = hostname.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/**
 * Encodes a `struct sockaddr_in`: family, big-endian port, address bytes,
 * zero padding (with the BSD length byte first on macOS).
 *
 * @param layout The platform's layout.
 * @param addr Host (IPv4 literal or `localhost`) and port.
 * @returns `SOCKADDR_IN_SIZE` bytes.
 * @throws {RangeError} When the host is not IPv4 or the port is out of range.
 *
 * @example Usage
 * ```ts
 * import { encodeSockaddrIn } from "./sockaddr.ts";
 * import { PLATFORMS } from "./platform.ts";
 * const bytes = encodeSockaddrIn(PLATFORMS["linux/x86_64"], { hostname: "127.0.0.1", port: 7000 });
 * console.log(bytes.slice(0, 8)); // [2, 0, 0x1b, 0x58, 127, 0, 0, 1]
 * ```
 */
export function encodeSockaddrIn(layout: SockaddrLayout, addr: Ipv4Addr): Uint8Array {
  const ip = parseIpv4(addr.hostname);
  if (!ip) throw new RangeError(`Not an IPv4 address: "${addr.hostname}"`);
  if (!Number.isInteger(addr.port) || addr.port < 0 || addr.port > 65535) {
    throw new RangeError(`Port out of range: "${addr.port}"`);
  }
  const out = new Uint8Array(layout.SOCKADDR_IN_SIZE);
  const view = new DataView(out.buffer);
  if (layout.SOCKADDR_HAS_LEN) {
    out[0] = layout.SOCKADDR_IN_SIZE;
    out[1] = layout.AF_INET;
  } else {
    view.setUint16(0, layout.AF_INET, true);
  }
  // Network byte order is big-endian, whatever the CPU.
  view.setUint16(2, addr.port, false);
  out.set(ip, 4);
  return out;
}

/**
 * Decodes a `struct sockaddr_in` (e.g. from `getsockname`).
 *
 * @param layout The platform's layout.
 * @param bytes At least 8 bytes.
 * @returns Host and port, or `undefined` when the family is not `AF_INET`.
 *
 * @example Usage
 * ```ts
 * import { decodeSockaddrIn, encodeSockaddrIn } from "./sockaddr.ts";
 * import { PLATFORMS } from "./platform.ts";
 * const p = PLATFORMS["darwin/aarch64"];
 * console.log(decodeSockaddrIn(p, encodeSockaddrIn(p, { hostname: "127.0.0.1", port: 80 })));
 * ```
 */
export function decodeSockaddrIn(layout: SockaddrLayout, bytes: Uint8Array): Ipv4Addr | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const family = layout.SOCKADDR_HAS_LEN ? bytes[1] : view.getUint16(0, true);
  if (family !== layout.AF_INET) return undefined;
  return {
    hostname: `${bytes[4]}.${bytes[5]}.${bytes[6]}.${bytes[7]}`,
    port: view.getUint16(2, false),
  };
}
