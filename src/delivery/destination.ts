import { createHash } from "node:crypto";
import { maskPublicKey, maskSecret } from "../reporting/mask.js";

/**
 * Endpoint and public key of a run, as the state file records them. A resume that sends elsewhere would
 * skip every event that the earlier run delivered to the other endpoint or Koala project.
 */
export interface Destination {
  /** Base URL of Koala's API: origin and path without trailing slashes, with the public key masked if the URL contains it. */
  endpoint: string;
  /** First 16 hex digits of the SHA-256 of the public key, or undefined when the run has no key (a dry run). */
  publicKeySha256: string | undefined;
  /** The public key masked as every message masks it (`pk_a****`), or undefined without a key. */
  publicKeyMasked: string | undefined;
}

/** Describes the destination of a run. The key itself is never part of it. */
export function describeDestination(endpoint: string, publicKey: string | undefined): Destination {
  const url = new URL(endpoint);
  const normalized = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  const hasKey = publicKey !== undefined && publicKey.length > 0;
  return {
    endpoint: maskSecret(normalized, publicKey),
    publicKeySha256: hasKey ? hashPublicKey(publicKey) : undefined,
    publicKeyMasked: hasKey ? maskPublicKey(publicKey) : undefined,
  };
}

/**
 * Returns a one-way fingerprint of a public key: 64 bits of its SHA-256, enough to tell two keys
 * apart, and no part of the key.
 */
function hashPublicKey(publicKey: string): string {
  return createHash("sha256").update(publicKey).digest("hex").slice(0, 16);
}

/**
 * Raised, before anything is read or sent, when `--resume` finds a checkpoint of a run that sent to
 * another endpoint or with another public key. Resuming would skip, at the new destination, every
 * event that the earlier run delivered to the old one.
 */
export class DestinationMismatchError extends Error {
  readonly code = "DESTINATION_MISMATCH";
  readonly hint: string;
  /** Description of the difference, such as "to <endpoint>, and this run sends to <endpoint>". */
  readonly difference: string;

  constructor(
    readonly statePath: string,
    readonly recorded: Destination,
    readonly current: Destination,
  ) {
    const difference = describeDifference(recorded, current);
    super(`Cannot resume: the checkpoint ${statePath} is of a run that sent ${difference}, so --resume would skip every event that run delivered there.`);
    this.difference = difference;
    this.name = "DestinationMismatchError";
    this.hint =
      "Run with --restart in place of --resume to send every event to this destination (Koala keeps the first entry per message_id, so entries it already has are not recorded twice), " +
      "or give this run a checkpoint of its own with --state <other path> to keep both.";
  }
}

/**
 * Checks whether the destination recorded in a checkpoint differs from the current one. Keys are
 * compared only when both are known: a run without a key (a dry run) matches any key.
 */
export function destinationsDiffer(recorded: Destination, current: Destination): boolean {
  if (recorded.endpoint !== current.endpoint) {
    return true;
  }
  return recorded.publicKeySha256 !== undefined && current.publicKeySha256 !== undefined && recorded.publicKeySha256 !== current.publicKeySha256;
}

function describeDifference(recorded: Destination, current: Destination): string {
  const parts: string[] = [];
  if (recorded.endpoint !== current.endpoint) {
    parts.push(`to ${recorded.endpoint}, and this run sends to ${current.endpoint}`);
  }
  if (recorded.publicKeySha256 !== undefined && current.publicKeySha256 !== undefined && recorded.publicKeySha256 !== current.publicKeySha256) {
    // Two keys can share a mask, so the message states that the keys differ even when the masks match.
    parts.push(`with the public key ${recorded.publicKeyMasked ?? "****"}, and this run uses another one (${current.publicKeyMasked ?? "****"})`);
  }
  return parts.join("; it also sent ");
}
