import type { SeededRandom } from "./random.js";
import type { SyntheticUser } from "./users.js";
import { currencies, pages, searchTerms } from "./vocabulary.js";

/** Properties of a track event, shaped by its name. Values are deliberately messy where real archives are. */
export function trackProperties(random: SeededRandom, eventName: string, user: SyntheticUser): Record<string, unknown> {
  switch (eventName) {
    case "Order Completed":
    case "Subscription Upgraded":
      return orderProperties(random);
    case "Product Added":
      return {
        currency: random.pick(currencies)[0],
        // The same property is a number in one event and a string in the next, as in real archives.
        price: random.chance(0.5) ? random.integer(5, 900) : `${random.integer(5, 900)}.00`,
        product_id: random.integer(1000, 99999),
        quantity: random.integer(1, 4),
        sku: `SKU-${random.hex(6).toUpperCase()}`,
      };
    case "Search Performed":
      return { query: random.pick(searchTerms), results: random.integer(0, 250) };
    case "Report Viewed":
    case "Dashboard Loaded":
      return {
        filters: { range: random.pick(["7d", "30d", "90d"]), segment: random.pick(["all", "paying", "trial"]) },
        load_time_ms: random.integer(80, 4000),
        report_id: `rpt_${random.hex(10)}`,
        workspace: user.company.name,
      };
    case "Audience Entered":
      return { audience_key: "high_intent_accounts", audience_name: "High intent accounts", computation_class: "audience" };
    default:
      return genericProperties(random);
  }
}

function orderProperties(random: SeededRandom): Record<string, unknown> {
  const [currency, symbol] = random.pick(currencies);
  const amount = random.integer(9, 48_000);
  const products: Record<string, unknown>[] = [];
  for (let i = random.integer(1, 3); i > 0; i--) {
    products.push({ name: random.pick(["Seat", "Add-on: SSO", "Priority support", "Storage 1 TB"]), price: random.integer(9, 900), quantity: random.integer(1, 20) });
  }
  return {
    currency,
    order_id: `ord_${random.hex(12)}`,
    products,
    // Money as text with its symbol, as some server code sends it.
    revenue: random.chance(0.4) ? `${symbol}${amount}.00` : amount,
    total: amount,
  };
}

function genericProperties(random: SeededRandom): Record<string, unknown> {
  const page = random.pick(pages);
  const properties: Record<string, unknown> = {
    category: random.pick(["navigation", "engagement", "settings", "billing"]),
    label: random.pick(["primary", "secondary", "Voir plus →", "サインアップ", "menu"]),
    path: page.path,
    value: random.integer(0, 100),
  };
  if (random.chance(0.3)) properties["experiment"] = { id: `exp_${random.integer(1, 40)}`, variant: random.pick(["control", "treatment"]) };
  if (random.chance(0.1)) properties["note"] = null;
  return properties;
}
