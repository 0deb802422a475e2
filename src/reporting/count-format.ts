/**
 * An en-US formatter, named rather than taken from the environment's locale, so that a count reads
 * the same on every machine (`1,234,567`, where a German locale would write `1.234.567`). Created on
 * first use, because creating it costs 10 to 15 ms. A summary of counts does not pay that, because
 * `groupThousands` formats every safe integer.
 */
let countFormat: Intl.NumberFormat | undefined;

/**
 * Formats a count for text shown to people, with thousands separators: `2,440`. JSON outputs keep
 * plain numbers and do not use it.
 */
export function formatCount(count: number): string {
  if (Number.isSafeInteger(count)) {
    return groupThousands(count);
  }
  countFormat ??= new Intl.NumberFormat("en-US");
  return countFormat.format(count);
}

/** Writes a safe integer as `Intl.NumberFormat("en-US")` does, with a comma between groups of three digits. */
function groupThousands(count: number): string {
  const digits = String(Math.abs(count));
  let grouped = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let index = grouped.length; index < digits.length; index += 3) {
    grouped += `,${digits.slice(index, index + 3)}`;
  }
  // -0 is a safe integer too, and Intl writes it as "-0".
  return count < 0 || Object.is(count, -0) ? `-${grouped}` : grouped;
}
