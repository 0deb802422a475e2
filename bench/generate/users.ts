import { SeededRandom } from "./random.js";
import { companies, firstNames, lastNames, locales, mobileDevices, plans, timezones, userAgents } from "./vocabulary.js";

export interface SyntheticUser {
  index: number;
  /** A string for most users, a number for some, as server code that sends database ids does. */
  userId: string | number;
  anonymousId: string;
  email: string;
  firstName: string;
  lastName: string;
  company: (typeof companies)[number];
  plan: (typeof plans)[number];
  ip: string;
  locale: string;
  timezone: string;
  userAgent: string;
  /** The phone or tablet of users who also use the mobile app, or null. */
  device: (typeof mobileDevices)[number] | null;
  deviceId: string;
  createdAt: string;
}

const documentationNetworks = ["192.0.2", "198.51.100", "203.0.113"] as const;

/**
 * Builds user number `index` from the seed alone, so the generator keeps no user table and its
 * memory does not grow with the number of users.
 */
export function userAt(seed: number, index: number): SyntheticUser {
  const random = new SeededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const firstName = random.pick(firstNames);
  const lastName = random.pick(lastNames);
  const company = random.pick(companies);
  const userId = random.chance(0.08) ? 100000 + index : `usr_${random.hex(6)}${index.toString(36)}`;
  const created = Date.UTC(2021, 0, 1) + random.integer(0, 3 * 365) * 86_400_000;

  return {
    index,
    userId,
    anonymousId: random.uuid(),
    email: `${asciiSlug(firstName)}.${asciiSlug(lastName)}.${index}@${company.domain}`,
    firstName,
    lastName,
    company,
    plan: random.pick(plans),
    ip: `${random.pick(documentationNetworks)}.${random.integer(1, 254)}`,
    locale: random.pick(locales),
    timezone: random.pick(timezones),
    userAgent: random.pick(userAgents),
    device: random.chance(0.3) ? random.pick(mobileDevices) : null,
    deviceId: random.uuid().toUpperCase(),
    createdAt: new Date(created).toISOString(),
  };
}

/** Lower-case ASCII letters of a name, for the local part of an email address. */
function asciiSlug(name: string): string {
  const slug = name
    .normalize("NFD")
    .replace(/[^A-Za-z]/g, "")
    .toLowerCase();
  return slug === "" ? "user" : slug;
}
