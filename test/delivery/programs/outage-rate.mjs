// Measures the requests that the built CLI makes while Koala is down, for docs/delivery.md. It sends
// a generated file to the emulator, which goes down once it has answered 300 requests: it refuses
// connections (`refuse`) or answers 503 (`503`). With <down-ms> it comes back after that long, and
// the trial also measures how long the run takes to notice. Build both first:
//   npm run build && npx tsc -p test/emulator/tsconfig.json
//   node test/delivery/programs/outage-rate.mjs refuse|503 [persons] [events] [max-outage-ms] [down-ms]
// KOALA_REPLAY_ROOT=<checkout> runs the CLI of another built checkout, to measure an older version.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..", "..");
const cliRoot = process.env.KOALA_REPLAY_ROOT ?? root;
const [mode, personsText = "3000", eventsText = "30000", maxOutageText = "20000", downText] = process.argv.slice(2);
if (mode !== "refuse" && mode !== "503") {
  process.stderr.write("usage: node test/delivery/programs/outage-rate.mjs refuse|503 [persons] [events] [max-outage-ms] [down-ms]\n");
  process.exit(2);
}
const { startKoalaEmulator } = await import(join(root, "dist-emulator", "koala-emulator.js"));
const persons = Number(personsText);
const events = Number(eventsText);
const downMs = downText === undefined ? undefined : Number(downText);
const key = "pk_emulator_0123456789";

const directory = mkdtempSync(join(tmpdir(), "koala-replay-outage-rate-"));
const lines = [];
for (let index = 0; index < events; index += 1) {
  const person = index % persons;
  lines.push(JSON.stringify({ type: "track", event: "Clicked", messageId: `m-${index}`, email: `p${person}@example.com`, timestamp: "2024-01-01T00:00:00Z" }));
}
writeFileSync(join(directory, "events.jsonl"), `${lines.join("\n")}\n`);

const faults = {};
const times = { down: 0, back: 0, firstAcceptedAfterBack: 0 };
let answered = 0;
let requestsBeforeDown = 0;
let requestsWhileDown = 0;
const emulator = await startKoalaEmulator({
  publicKey: key,
  faults,
  keepRequests: false,
  onResponse: (request) => {
    answered += 1;
    if (times.back > 0 && times.firstAcceptedAfterBack === 0 && request.status === 200) {
      times.firstAcceptedAfterBack = Date.now();
    }
    if (times.down === 0 && answered >= 300) {
      goDown();
    }
  },
});

function goDown() {
  times.down = Date.now();
  requestsBeforeDown = emulator.stats.batchRequests;
  if (mode === "refuse") {
    void emulator.stopListening();
  } else {
    faults.batchStatus = 503;
  }
  if (downMs !== undefined) {
    setTimeout(comeBack, downMs);
  }
}

function comeBack() {
  times.back = Date.now();
  requestsWhileDown = emulator.stats.batchRequests - requestsBeforeDown;
  if (mode === "refuse") {
    void emulator.listenAgain();
  } else {
    delete faults.batchStatus;
  }
}

const args = ["send", "--no-stitch", "--quiet", "--endpoint", emulator.url, "--state", join(directory, "state.json"), "--report", join(directory, "report.json"), "--max-outage-ms", maxOutageText, join(directory, "events.jsonl")];
const child = spawn(process.execPath, [join(cliRoot, "bin", "koala-replay.js"), ...args], { cwd: directory, env: { ...process.env, KOALA_PUBLIC_KEY: key }, stdio: "ignore" });
const exitStatus = await new Promise((resolve) => child.on("exit", resolve));
const endedAt = Date.now();
await emulator.close();

const report = JSON.parse(readFileSync(join(directory, "report.json"), "utf8"));
const downUntil = times.back === 0 ? endedAt : times.back;
// A refused connection never reaches the emulator, so the run's own count of them is taken.
const refused = report.delivery.retries["connection-refused"] ?? 0;
let whileDown = refused;
if (mode === "503") {
  whileDown = times.back === 0 ? emulator.stats.batchRequests - requestsBeforeDown : requestsWhileDown;
}
const downSeconds = (downUntil - times.down) / 1000;
const figures = {
  mode,
  persons,
  events,
  exitStatus,
  downSeconds,
  requestsWhileDown: whileDown,
  requestsPerSecondWhileDown: Number((whileDown / downSeconds).toFixed(2)),
  firstAcceptedAfterBackMs: times.back === 0 ? null : times.firstAcceptedAfterBack - times.back,
  secondsFromBackToEnd: times.back === 0 ? null : (endedAt - times.back) / 1000,
  accepted: emulator.accepted.size,
  retries: report.delivery.retries,
  fatal: report.delivery.fatal,
};
process.stdout.write(`${JSON.stringify(figures, null, 1)}\n`);
