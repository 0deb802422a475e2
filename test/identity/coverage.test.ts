import { describe, expect, it } from "vitest";
import { IdentityCoverage, checkStitchingInputs, formatCoverage } from "../../src/identity/index.js";

describe("IdentityCoverage", () => {
  it("sorts entries into exclusive buckets", () => {
    const coverage = new IdentityCoverage();
    coverage.countBefore(true, true);
    coverage.countBefore(false, true);
    coverage.countBefore(false, false);
    coverage.countBefore(false, false);

    expect(coverage.before).toEqual({ withEmail: 1, withProfileIdOnly: 1, withNeither: 2 });
    expect(coverage.after).toEqual({ withEmail: 0, withProfileIdOnly: 0, withNeither: 0 });
  });

  it("formats before, after and conflicts", () => {
    const coverage = new IdentityCoverage();
    for (let entry = 0; entry < 1500; entry++) coverage.countBefore(false, false);
    coverage.countBefore(true, false);
    for (let entry = 0; entry < 1200; entry++) coverage.countAfter(true, false);
    for (let entry = 0; entry < 301; entry++) coverage.countAfter(false, false);
    coverage.conflicts = 3;

    expect(formatCoverage(coverage)).toEqual([
      "identity before stitching: 1 with email, 0 with profile_id only, 1,500 with neither",
      "identity after stitching: 1,200 with email, 0 with profile_id only, 301 with neither (1,199 stitched)",
      "identity conflicts: 3 observations disagreed with an id's email; the latest email was used",
    ]);
  });

  it("omits the conflicts line without conflicts", () => {
    expect(formatCoverage(new IdentityCoverage())).toHaveLength(2);
  });
});

describe("checkStitchingInputs", () => {
  it("stdin with stitching and no identities file", () => {
    const message = checkStitchingInputs({ readsStdin: true, stitch: true });
    expect(message).toMatch(/standard input can be read only once/);
    expect(message).toMatch(/--identities <file>/);
    expect(message).toMatch(/--no-stitch/);
  });

  it("named pipe with stitching and no identities file", () => {
    const message = checkStitchingInputs({ readsStdin: false, readOnceFiles: [{ input: "/tmp/events", kind: "a named pipe" }], stitch: true });
    expect(message).toMatch(/\/tmp\/events is a named pipe, which can be read only once/);
    expect(message).toMatch(/--identities <file>/);
    expect(message).toMatch(/--no-stitch/);
    expect(message).toMatch(/save the events to a regular file/);
  });

  it("stdin and a pipe are both named", () => {
    const message = checkStitchingInputs({ readsStdin: true, readOnceFiles: [{ input: "/dev/fd/63", kind: "a pipe" }], stitch: true });
    expect(message).toMatch(/and standard input and \/dev\/fd\/63 \(a pipe\) can be read only once/);
  });

  it.each([
    ["pipe with identities file", { readsStdin: false, readOnceFiles: [{ input: "/dev/fd/63", kind: "a pipe" }], stitch: true, identitiesFile: "users.csv" }],
    ["pipe without stitching", { readsStdin: false, readOnceFiles: [{ input: "/dev/fd/63", kind: "a pipe" }], stitch: false }],
    ["stdin with identities file", { readsStdin: true, stitch: true, identitiesFile: "users.csv" }],
    ["stdin without stitching", { readsStdin: true, stitch: false }],
    ["files with stitching", { readsStdin: false, stitch: true }],
  ])("%s is accepted", (_name, inputs) => {
    expect(checkStitchingInputs(inputs)).toBeUndefined();
  });
});
