import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import {
  type CloudTrailRecord,
  type DecodeItem,
  decodeLogFile,
  decodeLogFileItems,
  inflateLogFile,
} from "../src/index.ts";
import { chunked, collect, realRecords } from "./support.ts";

const records = realRecords();
const logFile = (recs: unknown[]) => Buffer.from(JSON.stringify({ Records: recs }));
const okRecords = (items: DecodeItem[]) => items.filter((i) => i.ok).map((i) => (i.ok ? i.record : null));
const errors = (items: DecodeItem[]) => items.flatMap((i) => (i.ok ? [] : [i]));

describe("decodeLogFile", () => {
  test("reads every real record of a gzipped log file, in any chunking", async () => {
    const gz = gzipSync(logFile(records));
    for (const size of [1, 13, 4096, gz.length]) {
      const items = await collect(decodeLogFile(chunked(gz, size)));
      assert.deepEqual(okRecords(items), records, `chunks of ${size}`);
    }
  });

  test("reads plain JSON too, with other members around Records", async () => {
    const body = Buffer.from(
      `  {"x": [1, {"a": "}]\\""}], "Records" : ${JSON.stringify(records.slice(0, 3))}, "n": -1.5e3 }\n`,
    );
    assert.deepEqual(okRecords(await collect(decodeLogFile(body))), records.slice(0, 3));
  });

  test("a truncated gzip keeps the records before the cut and ends with a gzip error", async () => {
    const gz = gzipSync(logFile(records));
    const items = await collect(decodeLogFile(gz.subarray(0, Math.floor(gz.length * 0.6))));
    const last = items.at(-1);
    assert.ok(last && !last.ok && last.error.code === "gzip" && last.index === undefined);
    assert.ok(okRecords(items).length > 0);
  });

  test("a gzip bomb stops at the output bound", async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    assert.ok(bomb.length < 100_000);
    const items = await collect(decodeLogFile(bomb, { maxDecompressedBytes: 1024 * 1024 }));
    assert.equal(items.length, 1);
    assert.equal(errors(items)[0]?.error.code, "too-large");
  });

  test("malformed files get typed errors and never throw", async () => {
    const cases: Array<[string, Uint8Array, string]> = [
      ["invalid JSON", Buffer.from('{"Records": [ {"eventID": } ]}'), "json"],
      ["not JSON at all", Buffer.from("hello"), "json"],
      ["empty", Buffer.alloc(0), "json"],
      ["Records missing", Buffer.from('{"records": []}'), "shape"],
      ["Records not an array", Buffer.from('{"Records": {"a": 1}}'), "shape"],
      ["a JSON array of something else", Buffer.from("[1]"), "shape"],
      ["cut short", Buffer.from('{"Records": [{"eventID": "a"'), "json"],
      ["trailing garbage", Buffer.from('{"Records": []} x'), "json"],
    ];
    for (const [name, bytes, code] of cases) {
      const items = await collect(decodeLogFile(bytes));
      const codes = errors(items).map((e) => e.error.code);
      assert.ok(codes.includes(code as never), `${name}: got ${codes.join(",") || "no error"}`);
    }
  });

  test("bad records spoil only themselves: no eventID, wrong types, invalid UTF-8, a giant record", async () => {
    const good = records[0] as CloudTrailRecord;
    const noId = { ...good, eventID: undefined };
    const wrongType = { ...good, eventTime: 12 };
    const giant = { ...good, eventID: "giant", requestParameters: { blob: "x".repeat(200_000) } };
    const body = Buffer.concat([
      Buffer.from(
        `{"Records":[${JSON.stringify(good)},${JSON.stringify(noId)},${JSON.stringify(wrongType)},{"eventID":"`,
      ),
      Buffer.from([0xc3, 0x28]), // invalid UTF-8
      Buffer.from(`","recipientAccountId":"1"},${JSON.stringify(giant)},${JSON.stringify(good)}]}`),
    ]);
    const items = await collect(decodeLogFile(gzipSync(body), { maxRecordBytes: 100_000 }));
    assert.deepEqual(
      items.map((i) => (i.ok ? "ok" : `${i.index}:${i.error.code}`)),
      ["ok", "1:missing-event-id", "2:field", "3:utf8", "4:too-large", "ok"],
    );
    const wrong = errors(items).find((e) => e.error.code === "field");
    assert.match(wrong?.error.message ?? "", /eventTime must be a string.*\$\.Records\[2\]\.eventTime/);
  });

  test("property: decode(encode(records)) gives the records back, whatever the chunking", async () => {
    const record = fc.record({
      eventID: fc.uuid(),
      recipientAccountId: fc.stringMatching(/^\d{12}$/),
      eventName: fc.string(),
      requestParameters: fc.option(fc.jsonValue(), { nil: null }),
      note: fc.string({ unit: "grapheme" }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { maxLength: 20 }),
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        async (recs, size, zip) => {
          const body = logFile(recs);
          const items = await collect(decodeLogFile(chunked(zip ? gzipSync(body) : body, size)));
          assert.deepEqual(okRecords(items), JSON.parse(body.toString()).Records);
          assert.equal(errors(items).length, 0);
          for (const item of items) if (item.ok) assert.deepEqual(JSON.parse(item.text ?? "null"), item.record);
        },
      ),
      { numRuns: 150 },
    );
  });

  test("a file in memory, parsed whole, gives the same items as the record splitter, irregular files included", async () => {
    const record = records[0] as CloudTrailRecord;
    const bodies = [
      JSON.stringify({ Records: records }),
      JSON.stringify(records.slice(0, 3)),
      `{"x": {"Records": 1}, "Records": ${JSON.stringify(records.slice(0, 2))}}`,
      `{"Records": [${JSON.stringify(record)}, 7, null, {"eventID": 1}, {"eventTime": 5, "eventID": "e", "recipientAccountId": "1"}]}`,
      `{"Records": [${JSON.stringify(record)}], "Records": [${JSON.stringify(records[1])}]}`,
      `{"Records": {"a": 1}}`,
      `{"other": []}`,
      `{"Records": [${JSON.stringify(record)}, {"eventID": }]}`,
      `\ufeff{"Records": [${JSON.stringify(record)}]}`,
      `{"Records": []}{"Records": []}`,
      `${"[".repeat(300)}${"]".repeat(300)}`,
      "",
    ];
    for (const body of bodies) {
      for (const bytes of [Buffer.from(body), gzipSync(body), Buffer.concat([gzipSync(body), Buffer.alloc(3)])]) {
        const whole = await collect(decodeLogFile(bytes));
        const streamed = await collect(decodeLogFile(chunked(bytes, 4096)));
        const shown = (items: DecodeItem[]) =>
          items.map((i) =>
            i.ok
              ? { index: i.index, record: i.record }
              : { index: i.index, error: `${i.error.code} ${i.error.message} at ${i.error.where}` },
          );
        assert.deepEqual(shown(whole), shown(streamed), body.slice(0, 80));
      }
    }
  });

  test("quotes and runs of backslashes inside strings, cut at every chunk boundary, end no string early", async () => {
    const alphabet = ["\\", '"', "a", "}"];
    const notes: string[] = [""];
    for (let length = 1; length <= 4; length++) {
      for (const prefix of notes.filter((n) => n.length === length - 1))
        for (const c of alphabet) notes.push(prefix + c);
    }
    const recs = notes.map((note, i) => ({ eventID: `e${i}`, recipientAccountId: "1", note, [note]: [note] }));
    const body = logFile(recs);
    for (const size of [2, 3, 7]) {
      const items = await collect(decodeLogFile(chunked(body, size)));
      assert.deepEqual(okRecords(items), recs, `chunks of ${size}`);
    }
  });

  test("a streamed record carries its text as it was in the file, spaces and escapes included", async () => {
    const text = `{ "eventID" : "caf\\u00e9",\n"recipientAccountId":"1", "n": 1.50, "big": 12345678901234567890 }`;
    const body = Buffer.from(`{"Records": [ ${text} ,${JSON.stringify(records[0])}]}`);
    const items = await collect(decodeLogFile(chunked(gzipSync(body), 7)));
    assert.deepEqual(
      items.map((i) => (i.ok ? i.text : i.error.message)),
      [text, JSON.stringify(records[0])],
    );
    assert.equal(items[0]?.ok && items[0].record.eventID, "caf\u00e9");
  });

  test("decodeLogFileItems: an array for a file parsed whole, else the stream; decodeLogFile's items either way", async () => {
    const regular = gzipSync(logFile(records));
    const irregular = gzipSync(`{"Records": [${JSON.stringify(records[0])}, {"eventID": }]}`);
    for (const [bytes, parsedWhole] of [
      [regular, true],
      [irregular, false],
    ] as const) {
      const expected = await collect(decodeLogFile(bytes));
      for (const source of [bytes, await inflateLogFile(bytes)]) {
        const items = decodeLogFileItems(source);
        assert.equal(Array.isArray(items), parsedWhole);
        assert.deepEqual(Array.isArray(items) ? items : await collect(items), expected);
      }
    }
    assert.ok(!Array.isArray(decodeLogFileItems(chunked(regular, 4096))), "a stream is never parsed whole");
  });

  test("a bare JSON array of records is read like a log file", async () => {
    const items = await collect(decodeLogFile(gzipSync(Buffer.from(JSON.stringify(records.slice(0, 4))))));
    assert.deepEqual(okRecords(items), records.slice(0, 4));
    assert.deepEqual(errors(items), []);
    const bad = await collect(decodeLogFile(Buffer.from(`[${JSON.stringify(records[0])}, 7]`)));
    assert.deepEqual(
      bad.map((i) => (i.ok ? "ok" : `${i.index}:${i.error.where}`)),
      ["ok", "1:$[1]"],
    );
  });

  test("a Records key written with escapes is still the Records key", async () => {
    const body = Buffer.from(`{"Rec\\u006frds": ${JSON.stringify(records.slice(0, 2))}}`);
    assert.deepEqual(okRecords(await collect(decodeLogFile(body))), records.slice(0, 2));
  });

  test("Records that is not an array gives one file error and no phantom record", async () => {
    for (const body of ['{"Records": {}}', '{"Records": "oops"}', '{"Records" x []}']) {
      const items = await collect(decodeLogFile(Buffer.from(body)));
      assert.equal(items.length, 1, `${body}: ${items.map((i) => (i.ok ? "ok" : i.error.message)).join(" | ")}`);
      assert.equal(items[0]?.ok, false);
      assert.equal(items[0]?.ok === false ? items[0].index : "record", undefined);
    }
  });

  test("NDJSON is named as such", async () => {
    const body = Buffer.from(
      records
        .slice(0, 3)
        .map((r) => JSON.stringify(r))
        .join("\n"),
    );
    const [first] = errors(await collect(decodeLogFile(body)));
    assert.match(first?.error.message ?? "", /NDJSON/);
  });

  test("stray bytes after a complete gzip member keep every record and say what is wrong", async () => {
    for (const n of [3, 2_000, 30_000]) {
      const recs = Array.from({ length: n }, (_, i) => ({ ...(records[0] as object), eventID: `e-${i}` }));
      const gz = Buffer.concat([gzipSync(logFile(recs)), Buffer.from("garbage!")]);
      const items = await collect(decodeLogFile(gz));
      assert.equal(okRecords(items).length, n, `${n} records`);
      const errs = errors(items);
      assert.equal(errs.length, 1);
      assert.match(errs[0]?.error.message ?? "", /follow the end of the gzip stream/);
    }
  });

  test("a record nested past the depth bound is refused as too-deep; its neighbours are read", async () => {
    const deep = `{"eventID":"deep","recipientAccountId":"1","requestParameters":${"[".repeat(6000)}${"]".repeat(6000)}}`;
    const body = Buffer.from(`{"Records":[${JSON.stringify(records[0])},${deep},${JSON.stringify(records[1])}]}`);
    const items = await collect(decodeLogFile(body));
    assert.deepEqual(
      items.map((i) => (i.ok ? "ok" : `${i.index}:${i.error.code}`)),
      ["ok", "1:too-deep", "ok"],
    );
  });
});
