import { describe, expect, test } from "vitest";
import { hideEmails, pseudonymizeEmail } from "../../src/reporting/email-mask.js";

describe("hideEmails", () => {
  test.each([
    ["person ada@example.com, a.jsonl:4", "person email#b5fc85e5, a.jsonl:4"],
    ['{"error":"invalid email ada@example.com and bob@example.com"}', '{"error":"invalid email email#b5fc85e5 and email#5ff860bf"}'],
    ['found string "ada+tag@mail.example.co.uk"', `found string "${pseudonymizeEmail("ada+tag@mail.example.co.uk")}"`],
    ["no email here: a@b, @example.com, user@localhost", "no email here: a@b, @example.com, user@localhost"],
  ])("%s", (text, expected) => {
    expect(hideEmails(text)).toBe(expected);
  });

  test("stand-in is stable and short", () => {
    expect(pseudonymizeEmail("ada@example.com")).toBe("email#b5fc85e5");
    expect(pseudonymizeEmail("Ada@example.com")).not.toBe("email#b5fc85e5");
  });
});
