import type { SeededRandom } from "./random.js";
import type { SyntheticUser } from "./users.js";
import { carriers, pages, referrers } from "./vocabulary.js";

/** The Segment library that sent an event: analytics.js in a browser, analytics-node on a server, or a mobile SDK. */
export type SourceLibrary = "browser" | "server" | "mobile";

const pageOrigin = "https://acme.example.com";

export function browserContext(random: SeededRandom, user: SyntheticUser, withTraits: boolean): Record<string, unknown> {
  const page = random.pick(pages);
  const search = random.chance(0.2) ? `?utm_source=newsletter&utm_campaign=spring_${random.integer(1, 9)}` : "";
  const context: Record<string, unknown> = {
    ip: user.ip,
    library: { name: "analytics.js", version: random.chance(0.7) ? "npm:next-1.61.0" : "2.11.1" },
    locale: user.locale,
    page: {
      path: page.path,
      referrer: random.pick(referrers),
      search,
      title: page.title,
      url: `${pageOrigin}${page.path}${search}`,
    },
    timezone: user.timezone,
    userAgent: user.userAgent,
  };
  if (search !== "") context["campaign"] = { medium: "email", name: `spring_${random.integer(1, 9)}`, source: "newsletter" };
  if (withTraits) context["traits"] = { email: user.email };
  return context;
}

export function serverContext(random: SeededRandom, user: SyntheticUser, withTraits: boolean): Record<string, unknown> {
  const context: Record<string, unknown> = {
    library: { name: "analytics-node", version: random.chance(0.8) ? "2.1.2" : "1.3.0" },
  };
  if (random.chance(0.5)) context["ip"] = user.ip;
  if (withTraits) {
    context["traits"] = {
      company: user.company.name,
      email: user.email,
      name: `${user.firstName} ${user.lastName}`,
      plan: user.plan,
    };
  }
  return context;
}

export function mobileContext(random: SeededRandom, user: SyntheticUser, withTraits: boolean): Record<string, unknown> {
  const device = user.device;
  if (device === null) throw new Error(`user ${user.index} has no mobile device, so it cannot send a mobile event`);
  const context: Record<string, unknown> = {
    app: { build: "2.23.0", name: "Acme", namespace: "com.example.acme", version: "2.23" },
    device: {
      adTrackingEnabled: random.chance(0.4),
      id: user.deviceId,
      manufacturer: device.manufacturer,
      model: device.model,
      type: device.type,
    },
    ip: user.ip,
    library: { name: device.library, version: device.libraryVersion },
    locale: user.locale,
    network: { carrier: random.pick(carriers), cellular: random.chance(0.3), wifi: random.chance(0.7) },
    os: { name: device.osName, version: device.osVersion },
    screen: device.type === "ios" ? { height: 852, width: 393 } : { density: 2.75, height: 915, width: 412 },
    timezone: user.timezone,
  };
  if (withTraits) context["traits"] = { email: user.email, username: `${user.firstName}_${user.index}` };
  return context;
}
