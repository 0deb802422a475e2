/** One part of a status line, with a shorter form to use when the line is too wide. */
export interface LinePart {
  text: string;
  /** Shorter form of `text`, for a narrow terminal. Without it the part is kept whole or dropped. */
  short?: string;
  /** Rank of the part, 0 for the most important; the highest ranks are dropped first. */
  rank: number;
}

/**
 * Joins as many parts as fit in `maxWidth` characters, in the order given. The parts kept are the
 * most important ones that fit in their short forms. Then, most important first, each part gets its
 * full text back when the line still fits. When not even the most important part fits, it is cut
 * with an ellipsis. Width is counted in UTF-16 code units, which equals columns for the text this
 * is used for: ASCII, `·` and `…`.
 */
export function fitParts(parts: readonly LinePart[], maxWidth: number, separator: string): string {
  const byRank = parts.map((part, position) => ({ part, position })).sort((left, right) => left.part.rank - right.part.rank);
  // Text shown for each part kept, by the part's position in `parts`.
  const textByPosition = new Map<number, string>();
  let width = 0;
  for (const { part, position } of byRank) {
    const text = part.short ?? part.text;
    const added = (textByPosition.size === 0 ? 0 : separator.length) + text.length;
    if (width + added > maxWidth) {
      break;
    }
    textByPosition.set(position, text);
    width += added;
  }

  const first = byRank[0]?.part;
  if (textByPosition.size === 0) {
    return first === undefined ? "" : truncateText(first.short ?? first.text, maxWidth);
  }

  // Gives parts their full text back, most important first, while the line still fits.
  for (const { part, position } of byRank) {
    const current = textByPosition.get(position);
    const extra = current === undefined ? 0 : part.text.length - current.length;
    if (extra > 0 && width + extra <= maxWidth) {
      textByPosition.set(position, part.text);
      width += extra;
    }
  }
  return [...textByPosition.entries()]
    .sort(([left], [right]) => left - right)
    .map(([, text]) => text)
    .join(separator);
}

/** Cuts `text` to `maxWidth` characters, the last of them an ellipsis, when it is longer. */
export function truncateText(text: string, maxWidth: number): string {
  if (text.length <= maxWidth) {
    return text;
  }
  return maxWidth < 1 ? "" : `${text.slice(0, maxWidth - 1)}…`;
}
