/**
 * An en-US formatter, named rather than taken from the environment's locale, so that a count reads
 * the same on every machine (`1,234,567`, where a German locale would write `1.234.567`). Created on
 * first use, because creating it costs about 12 ms, which `koala-replay --version` need not pay.
 */
let countFormat: Intl.NumberFormat | undefined;

/**
 * Formats a count for text shown to people, with thousands separators: `2,440`. JSON outputs keep
 * plain numbers and do not use it.
 */
export function formatCount(count: number): string {
  countFormat ??= new Intl.NumberFormat("en-US");
  return countFormat.format(count);
}
