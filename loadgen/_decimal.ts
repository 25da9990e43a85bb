/**
 * Java `DecimalFormat` rounding for the patterns JMeter's summariser uses
 * (`#0.0`, `#0.00%`). Private to `loadgen/`.
 *
 * Since JDK 8 (JDK-7131459) `DecimalFormat` rounds HALF_EVEN on the *exact*
 * binary value of the double, not on its shortest decimal text: 0.125 is a
 * true tie (→ 0.12) but 0.135 is stored as 0.13500000000000000888… (→ 0.14).
 * `Number#toFixed` does not round half-even, and scaling by 10ⁿ in floating
 * point moves values across ties, so the decision is made here on the exact
 * value with BigInt arithmetic.
 *
 * @module
 */

const view = new DataView(new ArrayBuffer(8));

/**
 * Formats a finite double with exactly `fractionDigits` decimals, at least one
 * integer digit, no grouping, `.` as the decimal mark, rounding HALF_EVEN on the
 * double's exact binary value — Java's `new DecimalFormat("#0.0…")`.
 *
 * @param value The number to format.
 * @param fractionDigits Digits after the decimal mark (0–20).
 * @returns The formatted number, e.g. `"6614.5"`.
 */
export function formatHalfEven(value: number, fractionDigits: number): string {
  if (Number.isNaN(value)) return "\uFFFD"; // what Java's DecimalFormatSymbols prints for NaN
  if (!Number.isFinite(value)) return value < 0 ? "-∞" : "∞";
  view.setFloat64(0, value);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const negative = (hi >>> 31) === 1;
  const biasedExp = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biasedExp === 0) {
    exp = -1074; // subnormal
  } else {
    mantissa |= 1n << 52n;
    exp = biasedExp - 1075;
  }
  // |value| · 10^fractionDigits = mantissa · 10^fractionDigits · 2^exp, exactly.
  const scaled = mantissa * 10n ** BigInt(fractionDigits);
  let units: bigint;
  if (exp >= 0) {
    units = scaled << BigInt(exp);
  } else {
    const den = 1n << BigInt(-exp);
    units = scaled / den;
    const twiceRem = (scaled % den) * 2n;
    if (twiceRem > den || (twiceRem === den && units % 2n === 1n)) units += 1n;
  }
  const digits = units.toString().padStart(fractionDigits + 1, "0");
  const cut = digits.length - fractionDigits;
  const text = fractionDigits === 0 ? digits : `${digits.slice(0, cut)}.${digits.slice(cut)}`;
  return negative ? `-${text}` : text;
}

/**
 * Java `long` division of non-negative integers, exact even when `a / b` rounds up.
 *
 * @param a Dividend, a non-negative integer.
 * @param b Divisor, a positive integer.
 * @returns `a / b` truncated.
 */
export function truncDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  return q;
}
