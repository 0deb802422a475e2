import { canonicalPattern, classifyEmailPattern, domainOf } from "./email-pattern.js";

/**
 * Email patterns indexed so that finding the first one that matches an address costs about the
 * same for ten thousand patterns as for one. Exact addresses are kept in a Map by address and
 * `*@domain` patterns in a Map by domain. Only the other globs, usually few, are tested one by one.
 */
export class EmailPatternIndex {
  /** The position of the first pattern of each exact address, in the order the patterns were given. */
  private readonly exact = new Map<string, number>();
  /** The position of the first `*@domain` pattern of each domain. */
  private readonly domains = new Map<string, number>();
  private readonly globs: Array<{ position: number; matches: (address: string) => boolean }> = [];

  /** `patterns` must be valid (see `describeEmailPatternProblem`). */
  constructor(private readonly patterns: readonly string[]) {
    patterns.forEach((pattern, position) => {
      const shape = classifyEmailPattern(canonicalPattern(pattern));
      if (shape.kind === "exact") {
        keepFirst(this.exact, shape.address, position);
      } else if (shape.kind === "domain") {
        keepFirst(this.domains, shape.domain, position);
      } else {
        this.globs.push({ position, matches: shape.matches });
      }
    });
  }

  /**
   * Returns the position of the first pattern, in the order given, that matches one of `addresses`
   * (in the form of `addressForMatching`), or undefined. The first pattern is the one that a scan of
   * the patterns one by one would find, so the pattern named in reports does not depend on the index.
   */
  firstMatch(addresses: readonly string[]): number | undefined {
    let first: number | undefined;
    const keepLower = (position: number | undefined): void => {
      if (position !== undefined && (first === undefined || position < first)) {
        first = position;
      }
    };
    for (const address of addresses) {
      keepLower(this.exact.get(address));
      const domain = domainOf(address);
      if (domain !== undefined) {
        keepLower(this.domains.get(domain));
      }
      // The globs are in the order given, so the scan stops at the first that matches or comes after the best so far.
      for (const glob of this.globs) {
        if (first !== undefined && glob.position > first) {
          break;
        }
        if (glob.matches(address)) {
          keepLower(glob.position);
          break;
        }
      }
    }
    return first;
  }

  /** Returns the pattern at `position`, as written. */
  patternAt(position: number): string {
    return this.patterns[position] as string;
  }
}

function keepFirst(positions: Map<string, number>, key: string, position: number): void {
  if (!positions.has(key)) {
    positions.set(key, position);
  }
}
