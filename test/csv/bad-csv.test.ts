import { describe, expect, it } from "vitest";
import { MAX_ROW_BYTES } from "../../src/inputs/csv/csv-parser.js";
import { eventsOf, linesOf, problemsOf, readText } from "./read.js";

const options = { table: "tracks" } as const;

function userIds(items: Awaited<ReturnType<typeof readText>>): unknown[] {
  return eventsOf(items).map((event) => event.userId);
}

describe("bad CSV input", () => {
  it("ragged rows reported, others read", async () => {
    const items = await readText("id,user_id\nm1,u1\nm2,u2,extra\nm3\nm4,u4\n", options);
    expect(userIds(items)).toEqual(["u1", "u4"]);
    const problems = problemsOf(items);
    expect(problems.map((problem) => problem.origin.line)).toEqual([3, 4]);
    expect(problems.every((problem) => problem.reason === "malformed-csv-row")).toBe(true);
    expect(problems[0]!.message).toContain("The row has 3 cells but the header has 2 columns");
    expect(problems[1]!.message).toContain("The row has 1 cells but the header has 2 columns");
  });

  it("row not in UTF-8 is skipped", async () => {
    // "Café" in Windows-1252, then in UTF-8, then a real U+FFFD in UTF-8.
    const bytes = Buffer.concat([
      Buffer.from("id,user_id,event\n"),
      Buffer.from([0x6d, 0x31, 0x2c, 0x75, 0x31, 0x2c, 0x43, 0x61, 0x66, 0xe9, 0x0a]),
      Buffer.from("m2,u2,Café\nm3,u3,x\uFFFDy\n"),
    ]);
    const items = await readText(bytes, options);

    expect(userIds(items)).toEqual(["u2", "u3"]);
    const problems = problemsOf(items);
    expect(problems.map((problem) => problem.origin.line)).toEqual([2]);
    expect(problems[0]!.reason).toBe("not-utf8");
    expect(problems[0]!.message).toContain("The row contains bytes that are not UTF-8 text, so it is skipped");
    expect(problems[0]!.message).toContain("iconv -f WINDOWS-1252 -t UTF-8");
  });

  it("header not in UTF-8 is not-utf8", async () => {
    const bytes = Buffer.concat([Buffer.from("id,user_id,caf"), Buffer.from([0xe9]), Buffer.from("\nm1,u1,x\n")]);
    const problems = problemsOf(await readText(bytes, options));

    expect(problems).toHaveLength(1);
    expect(problems[0]!.reason).toBe("not-utf8");
    expect(problems[0]!.message).toContain("The header row cannot be parsed, so no row of this input can be read.");
    expect(problems[0]!.message).toContain("iconv -f WINDOWS-1252 -t UTF-8");
  });

  it("multi-byte character split across chunks", async () => {
    const text = Buffer.from("id,user_id,event\nm1,u1,Café\n");
    const split = text.indexOf(0xc3) + 1;
    const items = await readText([text.subarray(0, split), text.subarray(split)], options);

    expect(problemsOf(items)).toEqual([]);
    expect(eventsOf(items).map((event) => event.event)).toEqual(["Café"]);
  });

  it("trailing empty cells accepted", async () => {
    const items = await readText("id,user_id\nm1,u1,,\n", options);
    expect(problemsOf(items)).toEqual([]);
    expect(userIds(items)).toEqual(["u1"]);
  });

  it("unterminated quote in a CRLF file", async () => {
    const items = await readText('id,user_id\r\nm1,u1\r\nm2,"u2\r\nm3,u3\r\nm4,u4\r\n', options);
    expect(userIds(items)).toEqual(["u1"]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin.line).toBe(3);
    expect(problems[0]!.message).toContain("(line 5)");
  });

  it("unterminated quote after a CRLF multi-line cell", async () => {
    const items = await readText('id,note\r\nm1,"a\r\nb"\r\nm2,"c\r\nd\r\n\r\ne', options);
    expect(linesOf(items)).toEqual([2, 4]);
    expect(problemsOf(items)[0]!.message).toContain("(line 7)");
  });

  it("unterminated quote reports the rest of the input", async () => {
    const items = await readText('id,user_id\nm1,u1\nm2,"u2\nm3,u3\nm4,u4\n', options);
    expect(userIds(items)).toEqual(["u1"]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin.line).toBe(3);
    expect(problems[0]!.message).toContain("never closed");
    expect(problems[0]!.message).toContain("(line 5)");
  });

  it("quote inside an unquoted cell reported", async () => {
    const items = await readText('id,user_id\nm1,u"1\nm2,u2\n', options);
    expect(userIds(items)).toEqual(["u2"]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin.line).toBe(2);
    expect(problems[0]!.message).toContain("Unquoted cell 2 on line 2 contains a double quote");
  });

  it("consecutive bad rows each reported", async () => {
    const items = await readText('id,user_id\nm1,u"1\nm2,u"2\nm3,"u3\nm4,u4\n', options);
    expect(eventsOf(items)).toEqual([]);
    const problems = problemsOf(items);
    expect(problems.map((problem) => problem.origin.line)).toEqual([2, 3, 4]);
    expect(problems[0]!.message).toContain("contains a double quote");
    expect(problems[1]!.message).toContain("contains a double quote");
    expect(problems[2]!.message).toContain("never closed");
  });

  it("text after a closing quote reported once", async () => {
    const items = await readText('id,user_id\nm0,u0\nm1,"u1"x\nm2,u2\n', options);
    expect(userIds(items)).toEqual(["u0", "u2"]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin.line).toBe(3);
    expect(problems[0]!.reason).toBe("malformed-csv-row");
    expect(problems[0]!.message).toContain("Quoted cell 2 continues after its closing double quote on line 3");
    expect(problems[0]!.message).not.toContain("spans lines");
  });

  it("later rows kept after a bad quote", async () => {
    const items = await readText('id,user_id\nm0,u0\nm1,"u1"x\nm2,u2\nm3,u3\nm4,"u4"\nm5,u5\n', options);
    expect(userIds(items)).toEqual(["u0", "u2", "u3", "u4", "u5"]);
    expect(linesOf(items)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(problemsOf(items).map((problem) => problem.origin.line)).toEqual([3]);
  });

  it("text after a closing quote in the first cell", async () => {
    const items = await readText('id,user_id\n"m1" ,u1\nm2,u2\n', options);
    expect(userIds(items)).toEqual(["u2"]);
    expect(problemsOf(items)[0]!.message).toContain("Quoted cell 1 continues after its closing double quote on line 2");
  });

  it("bad quote before a multi-line cell", async () => {
    const items = await readText('id,note,user_id\nm1,"a"b,"c\nd"\nm2,x,u2\n', options);
    expect(userIds(items)).toEqual(["u2"]);
    expect(linesOf(items)).toEqual([2, 4]);
    const message = problemsOf(items)[0]!.message;
    expect(message).toContain("Quoted cell 2 continues after its closing double quote on line 2");
    expect(message).toContain("The row spans lines 2 to 3");
  });

  it("text after a quote closed on a later line", async () => {
    const items = await readText('id,user_id\nm1,"u1\nm2,"u2"\nm3,u3\n', options);
    expect(userIds(items)).toEqual(["u3"]);
    expect(linesOf(items)).toEqual([2, 4]);
    const message = problemsOf(items)[0]!.message;
    expect(message).toContain("Quoted cell 2 continues after its closing double quote on line 3");
    expect(message).toContain("The row spans lines 2 to 3");
  });

  it("misplaced quotes in a CRLF file", async () => {
    const items = await readText('id,note\r\nm1,"a\r\nb"x\r\nm2,c"d\r\nm3,"e\r\nf"\r\nm4,g\r\n', options);
    expect(eventsOf(items).map((event) => event.messageId)).toEqual(["m3", "m4"]);
    expect(linesOf(items)).toEqual([2, 4, 5, 7]);
    const messages = problemsOf(items).map((problem) => problem.message);
    expect(messages[0]).toContain("Quoted cell 2 continues after its closing double quote on line 3");
    expect(messages[0]).toContain("The row spans lines 2 to 3");
    expect(messages[1]).toContain("Unquoted cell 2 on line 4 contains a double quote");
  });

  it("bad row split across chunks", async () => {
    const items = await readText(['id,user_id\nm0,u0\nm1,"u', '1"', "x\nm2,u", "2\n"], options);
    expect(userIds(items)).toEqual(["u0", "u2"]);
    expect(problemsOf(items).map((problem) => problem.origin.line)).toEqual([3]);
  });

  it("misplaced quote after multi-byte characters", async () => {
    const items = await readText('id,note,user_id\nm1,"é""ü"ß,u1\nm2,ö"x,u2\nm3,"ä,ö",u3\n', options);
    expect(userIds(items)).toEqual(["u3"]);
    const messages = problemsOf(items).map((problem) => problem.message);
    expect(messages[0]).toContain("Quoted cell 2 continues after its closing double quote on line 2");
    expect(messages[1]).toContain("Unquoted cell 2 on line 3 contains a double quote");
  });

  it("doubled quotes inside quoted cells accepted", async () => {
    const text = 'id,note,user_id\nm1,"say ""hi""",u1\nm2,"",u2\nm3,"[""a"",""b""]",u3\nm4,"""",u4\n';
    const items = await readText(text, options);
    expect(problemsOf(items)).toEqual([]);
    expect(eventsOf(items).map((event) => event.properties)).toEqual([
      { note: 'say "hi"' },
      {},
      { note: ["a", "b"] },
      { note: '"' },
    ]);
  });

  it("quoted header after a byte order mark", async () => {
    const items = await readText('\ufeff"id","user_id"\n"m1","u1"\n', options);
    expect(problemsOf(items)).toEqual([]);
    expect(userIds(items)).toEqual(["u1"]);
  });

  it("UTF-16 file with a misplaced quote", async () => {
    const text = '\ufeffid,user_id\r\nm1,"u1"x\r\nm2,"u""2"\r\nm3,u3\r\n';
    const items = await readText(Buffer.from(text, "utf16le"), options);
    expect(userIds(items)).toEqual(['u"2', "u3"]);
    expect(linesOf(items)).toEqual([2, 3, 4]);
    expect(problemsOf(items)[0]!.message).toContain("Quoted cell 2 continues after its closing double quote on line 2");
  });

  it("byte order mark dropped from the header", async () => {
    const items = await readText("\ufeffid,user_id\nm1,u1\n", options);
    expect(eventsOf(items)).toEqual([{ type: "track", messageId: "m1", userId: "u1", properties: {} }]);
  });

  it("byte order mark split across chunks", async () => {
    const bytes = Buffer.from("\ufeffid,user_id\nm1,u1\n");
    const items = await readText([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)], options);
    expect(userIds(items)).toEqual(["u1"]);
  });

  it("mixed CRLF and LF", async () => {
    const items = await readText("id,user_id\r\nm1,u1\nm2,u2\r\nm3,u3\rm4,u4\n", options);
    expect(problemsOf(items)).toEqual([]);
    expect(userIds(items)).toEqual(["u1", "u2", "u3", "u4"]);
    expect(linesOf(items)).toEqual([2, 3, 4, 5]);
  });

  it("CRLF split across chunks", async () => {
    const items = await readText(["id,user_id\r", "\nm1,u1\r", "\nm2,u2"], options);
    expect(problemsOf(items)).toEqual([]);
    expect(userIds(items)).toEqual(["u1", "u2"]);
    expect(linesOf(items)).toEqual([2, 3]);
  });

  it("missing final newline", async () => {
    const items = await readText("id,user_id\nm1,u1\nm2,u2", options);
    expect(userIds(items)).toEqual(["u1", "u2"]);
  });

  it("empty input yields nothing", async () => {
    expect(await readText("", options)).toEqual([]);
    expect(await readText([], options)).toEqual([]);
  });

  it("header only yields nothing", async () => {
    expect(await readText("id,user_id\n", options)).toEqual([]);
    expect(await readText("id,user_id", options)).toEqual([]);
  });

  it("blank lines and empty rows skipped, lines kept", async () => {
    const items = await readText("id,user_id\n\nm1,u1\n,\n\n  \nm2,u2\n", options);
    expect(userIds(items)).toEqual(["u1", "u2"]);
    expect(linesOf(items)).toEqual([3, 7]);
    expect(problemsOf(items)).toEqual([]);
  });

  it("line numbers after multi-line cells", async () => {
    const items = await readText('id,note\nm1,"a\nb"\nm2,"c\r\nd\r\ne"\nm3,x\n', options);
    expect(problemsOf(items)).toEqual([]);
    expect(linesOf(items)).toEqual([2, 4, 7]);
    expect(eventsOf(items)[1]!.properties).toEqual({ note: "c\r\nd\r\ne" });
  });

  it("line numbers after a skipped multi-line row", async () => {
    const items = await readText('id,note\nm1,"a\nb",extra\nm2,"c\nd"\nm3,x\n', options);
    expect(linesOf(items)).toEqual([2, 4, 6]);
    expect(items[0]!.kind).toBe("problem");
  });

  it("malformed header stops the input", async () => {
    const items = await readText('id,"user_id"x\nm1,u1\n', options);
    expect(eventsOf(items)).toEqual([]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin.line).toBe(1);
    expect(problems[0]!.message).toContain("The header row cannot be parsed");
  });

  it("row beyond the size limit skipped", async () => {
    const huge = "x".repeat(MAX_ROW_BYTES + 10);
    const items = await readText(["id,note\nm1,a\nm2,", huge, "\nm3,b\n"], options);
    expect(eventsOf(items).map((event) => event.messageId)).toEqual(["m1", "m3"]);
    expect(linesOf(items)).toEqual([2, 3, 4]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.reason).toBe("malformed-csv-row");
    expect(problems[0]!.message).toContain("The row is 32 MiB long (line 3), more than the 32 MiB a row may have");
    expect(problems[0]!.message).toContain("reading goes on with the next row");
  });

  it("oversized row in many chunks, CRLF", async () => {
    const piece = "y".repeat(1 << 20);
    const chunks = ["id,note\r\nm1,a\r\nm2,", ...Array.from({ length: 33 }, () => piece), "\r", "\nm3,b\r\nm4,c\r\n"];
    const items = await readText(chunks, options);
    expect(eventsOf(items).map((event) => event.messageId)).toEqual(["m1", "m3", "m4"]);
    expect(linesOf(items)).toEqual([2, 3, 4, 5]);
  });

  it("oversized quoted row spanning lines", async () => {
    const cell = `"${"z".repeat(MAX_ROW_BYTES / 2)}\n,""\r\n${"z".repeat(MAX_ROW_BYTES / 2)}"`;
    const items = await readText(["id,note\nm1,a\nm2,", cell, "\nm3,b\n"], options);
    expect(eventsOf(items).map((event) => event.messageId)).toEqual(["m1", "m3"]);
    expect(linesOf(items)).toEqual([2, 3, 6]);
    expect(problemsOf(items)[0]!.message).toContain("(lines 3 to 5)");
  });

  it("oversized row with a quote never closed", async () => {
    const items = await readText(["id,note\nm1,a\nm2,\"", "w".repeat(MAX_ROW_BYTES), "\nm3,b\nm4,c\n"], options);
    expect(eventsOf(items).map((event) => event.messageId)).toEqual(["m1"]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin.line).toBe(3);
    expect(problems[0]!.message).toContain("a quoted cell opened in it is never closed");
    expect(problems[0]!.message).toContain("(lines 3 to 5)");
  });

  it("UTF-16 row beyond the size limit skipped", async () => {
    // 17 Mi characters of 2 bytes each: 34 MiB of the input, in pieces of odd length.
    const piece = Buffer.from("u".repeat(1 << 20), "utf16le");
    const chunks = [
      Buffer.from("\ufeffid,note\r\nm1,a\r\nm2,", "utf16le"),
      ...Array.from({ length: 17 }, () => piece),
      Buffer.from("\r\nm3,b\r\nm4,\"c\"\r\n", "utf16le"),
    ];
    const bytes = Buffer.concat(chunks);
    const oddPieces: Buffer[] = [];
    for (let start = 0; start < bytes.length; start += 999_999) {
      oddPieces.push(bytes.subarray(start, start + 999_999));
    }

    const items = await readText(oddPieces, options);

    expect(eventsOf(items).map((event) => event.messageId)).toEqual(["m1", "m3", "m4"]);
    expect(eventsOf(items)[2]!.properties).toEqual({ note: "c" });
    expect(linesOf(items)).toEqual([2, 3, 4, 5]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin.line).toBe(3);
    expect(problems[0]!.message).toContain("The row is 34 MiB long (line 3), more than the 32 MiB a row may have");
  });

  it("oversized header stops the input", async () => {
    const items = await readText(["id,", "n".repeat(MAX_ROW_BYTES), "\nm1,a\n"], options);
    expect(eventsOf(items)).toEqual([]);
    const problems = problemsOf(items);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.origin.line).toBe(1);
    expect(problems[0]!.message).toContain("The header row cannot be parsed");
  });

  it("source error is thrown", async () => {
    const { Readable } = await import("node:stream");
    const { readCsvRecords } = await import("../../src/inputs/csv/index.js");
    const source = new Readable({
      read() {
        this.push("id,user_id\nm1,u1\n");
        this.destroy(new Error("unexpected end of file"));
      },
    });
    const read = async () => {
      for await (const item of readCsvRecords(source, { input: "x", table: "tracks", convertNumbers: false })) {
        void item;
      }
    };
    await expect(read()).rejects.toThrow("unexpected end of file");
  });
});

describe("columns that fill one field", () => {
  it.each([
    ["event paths, same name", "type,event,userId,email,email\ntrack,A,u1,a@x.com,b@x.com\n", {}, "Columns 4 (email) and 5 (email) both give properties.email or traits.email"],
    ["event paths, two spellings", "type,event,userId,user_id\ntrack,A,u1,u2\n", {}, "Columns 3 (userId) and 4 (user_id) both give userId"],
    ["warehouse, two cases", "id,user_id,event_text,plan,PLAN\nm1,u1,A,p1,p2\n", { table: "tracks" }, "Columns 4 (plan) and 5 (PLAN) both give properties.plan"],
    ["warehouse join", "id,user_id,event_text,id\nm1,u1,A,u1\n", { table: "tracks" }, "Columns 1 (id) and 4 (id) both give messageId"],
    ["S3 (Actions)", "event_name,event_type,message_id,user_id,USER_ID\nA,track,m1,u1,u2\n", {}, "Columns 4 (user_id) and 5 (USER_ID) both give user_id"],
    ["Engage", "key,external_ids,email,EMAIL\nk1,[],a@x.com,b@x.com\n", {}, "Columns 3 (email) and 4 (EMAIL) both give traits.email"],
  ])("%s with different values is reported", async (_name, text, options, message) => {
    const items = await readText(text, options);
    const problems = problemsOf(items);

    expect(eventsOf(items)).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.reason).toBe("malformed-csv-row");
    expect(problems[0]!.origin.line).toBe(2);
    expect(problems[0]!.message).toContain(message);
    expect(problems[0]!.message).toContain("so the row is skipped. Rename or remove one of the columns.");
  });

  it("same value or an empty cell is read", async () => {
    const items = await readText("type,event,userId,email,email\ntrack,A,u1,a@x.com,a@x.com\ntrack,B,u2,,b@x.com\ntrack,C,u3,c@x.com,\n", {});

    expect(problemsOf(items)).toEqual([]);
    expect(eventsOf(items).map((event) => (event.properties as Record<string, unknown>)["email"])).toEqual(["a@x.com", "b@x.com", "c@x.com"]);
  });

  it("object column and paths below it are read", async () => {
    const items = await readText('type,event,properties,properties.plan\ntrack,A,"{""a"":1}",pro\n', {});

    expect(problemsOf(items)).toEqual([]);
    expect(eventsOf(items)[0]!.properties).toEqual({ a: 1, plan: "pro" });
  });
});
