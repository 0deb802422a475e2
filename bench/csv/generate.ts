import { createWriteStream } from "node:fs";
import { once } from "node:events";

const HEADER =
  "id,anonymous_id,user_id,received_at,sent_at,timestamp,event,event_text,context_ip,context_user_agent," +
  "context_page_url,context_library_name,context_library_version,context_traits_email,plan,seats,price,tags,uuid_ts\n";

const USER_AGENT = '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"';

/**
 * Writes a warehouse `tracks` export of about `targetBytes` bytes and returns its row count. Rows
 * look like a real export: quoted cells with commas, a JSON array cell, zone-less timestamps, and
 * every third row without an `id`, so the derived messageId is part of the cost.
 */
export async function writeTracksCsv(path: string, targetBytes: number): Promise<number> {
  const output = createWriteStream(path);
  let written = 0;
  let rowCount = 0;
  let chunk = HEADER;
  while (written + chunk.length < targetBytes) {
    rowCount += 1;
    chunk += generateRow(rowCount);
    if (chunk.length >= 1 << 20) {
      written += chunk.length;
      if (!output.write(chunk)) await once(output, "drain");
      chunk = "";
    }
  }
  output.end(chunk);
  await once(output, "finish");
  return rowCount;
}

function generateRow(index: number): string {
  const id = index % 3 === 0 ? "" : `ajs-${index.toString(16).padStart(12, "0")}`;
  const second = String(index % 60).padStart(2, "0");
  const timestamp = `2024-03-0${1 + (index % 9)} 12:34:${second}`;
  return (
    `${id},anon-${index % 50_000},user-${index % 20_000},${timestamp}.120,${timestamp},${timestamp},` +
    `order_completed,Order Completed,192.0.2.${index % 250},${USER_AGENT},` +
    `https://example.com/checkout?step=${index % 5},analytics.js,next-1.64.0,user${index % 20_000}@example.com,` +
    `"pro, yearly",${index % 40},${(index % 1000) + 0.99},"[""red"",""blue""]",2024-03-01 12:35:00\n`
  );
}
