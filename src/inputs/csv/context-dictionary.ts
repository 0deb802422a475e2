/**
 * The context fields of Segment's spec, keyed by the snake_case column suffix a warehouse gives them
 * (`context_user_agent` → `userAgent`). Warehouse column names are lossy: `user_agent` could have
 * been `userAgent` or `user.agent`, so only names the spec defines are rebuilt into nested paths.
 */
const SPEC_CONTEXT_FIELDS: readonly string[] = [
  "ip",
  "locale",
  "timezone",
  "userAgent",
  "groupId",
  "library.name",
  "library.version",
  "page.path",
  "page.referrer",
  "page.search",
  "page.title",
  "page.url",
  "campaign.name",
  "campaign.source",
  "campaign.medium",
  "campaign.term",
  "campaign.content",
  "app.name",
  "app.version",
  "app.build",
  "app.namespace",
  "device.id",
  "device.advertisingId",
  "device.adTrackingEnabled",
  "device.manufacturer",
  "device.model",
  "device.name",
  "device.type",
  "device.token",
  "os.name",
  "os.version",
  "network.bluetooth",
  "network.carrier",
  "network.cellular",
  "network.wifi",
  "screen.width",
  "screen.height",
  "screen.density",
  "referrer.id",
  "referrer.type",
  "location.city",
  "location.country",
  "location.latitude",
  "location.longitude",
  "location.region",
  "location.speed",
];

const CONTEXT_PATH_BY_COLUMN_SUFFIX: ReadonlyMap<string, readonly string[]> = new Map(
  SPEC_CONTEXT_FIELDS.map((field) => [snakeCaseOfPath(field), field.split(".")]),
);

const TRAITS_PREFIX = "traits_";

/**
 * Returns the path inside `context` for a warehouse column suffix (the column name without
 * `context_`). A spec field is rebuilt (`page_url` → `page.url`). `traits_<name>` becomes
 * `traits.<name>`, keeping the trait's snake_case name. Any other suffix stays one key with its
 * underscores (`session_id` → `context.session_id`).
 */
export function contextPathOfColumn(suffix: string): readonly string[] {
  const specPath = CONTEXT_PATH_BY_COLUMN_SUFFIX.get(suffix);
  if (specPath !== undefined) return specPath;
  if (suffix.startsWith(TRAITS_PREFIX) && suffix.length > TRAITS_PREFIX.length) {
    return ["traits", suffix.slice(TRAITS_PREFIX.length)];
  }
  return [suffix];
}

/** `device.advertisingId` → `device_advertising_id`, the name a warehouse column gets. */
function snakeCaseOfPath(path: string): string {
  return path
    .split(".")
    .map((segment) => segment.replace(/[A-Z]/g, (letter) => "_" + letter.toLowerCase()))
    .join("_");
}
