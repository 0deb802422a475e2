/** Appends one reference token to a JSON pointer, escaping `~` and `/` as RFC 6901 requires. */
export function childPointer(pointer: string, token: string | number): string {
  const text = String(token);
  if (!text.includes("~") && !text.includes("/")) {
    return `${pointer}/${text}`;
  }
  return `${pointer}/${text.replaceAll("~", "~0").replaceAll("/", "~1")}`;
}
