// A CloudTrail endpoint that answers ListPublicKeys only, over the AWS JSON 1.1 protocol the SDK
// speaks (POST /, X-Amz-Target: CloudTrail_20131101.ListPublicKeys, epoch-second timestamps,
// base64 blobs, errors as {"__type"}). moto has no ListPublicKeys, so tests of the ingester's key
// source run against this, on a loopback port of their own. One key per page, so paging is used.

import type { KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fingerprintOf } from "@trailstream/cloudtrail";

export const LIST_PUBLIC_KEYS_TARGET = "CloudTrail_20131101.ListPublicKeys";

export interface StubKey {
  key: KeyObject;
  validFrom: Date;
  validTo: Date;
}

export interface StubRequest {
  target: string;
  body: { StartTime?: number; EndTime?: number; NextToken?: string };
  /** The Authorization header: the SDK signs every call with SigV4. */
  authorization: string;
}

/** ok: answer; denied: AccessDeniedException, as without cloudtrail:ListPublicKeys; hang: never answer. */
export type StubMode = "ok" | "denied" | "hang";

export interface ListPublicKeysStub {
  url: string;
  keys: StubKey[];
  requests: StubRequest[];
  mode: StubMode;
  close(): Promise<void>;
}

export async function startListPublicKeysStub(keys: StubKey[] = []): Promise<ListPublicKeysStub> {
  const held: IncomingMessage[] = [];
  const stub: ListPublicKeysStub = {
    url: "",
    keys,
    requests: [],
    mode: "ok",
    close: async () => {},
  };
  const server: Server = createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const target = String(req.headers["x-amz-target"] ?? "");
    const body = raw ? (JSON.parse(raw) as StubRequest["body"]) : {};
    stub.requests.push({ target, body, authorization: String(req.headers.authorization ?? "") });
    const reply = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(json));
    };
    if (stub.mode === "hang") {
      held.push(req);
      return;
    }
    if (target !== LIST_PUBLIC_KEYS_TARGET) {
      return reply(400, { __type: "UnknownOperationException", message: `no ${target} here` });
    }
    if (stub.mode === "denied") {
      return reply(400, {
        __type: "AccessDeniedException",
        message: "User is not authorized to perform: cloudtrail:ListPublicKeys",
      });
    }
    const from = (body.StartTime ?? 0) * 1000;
    const to = (body.EndTime ?? Number.MAX_SAFE_INTEGER / 1000) * 1000;
    const valid = stub.keys.filter((k) => k.validFrom.getTime() <= to && k.validTo.getTime() >= from);
    const index = Number(body.NextToken ?? "0");
    const page = valid.slice(index, index + 1).map((k) => {
      const der = k.key.export({ format: "der", type: "pkcs1" });
      return {
        Value: der.toString("base64"),
        ValidityStartTime: k.validFrom.getTime() / 1000,
        ValidityEndTime: k.validTo.getTime() / 1000,
        Fingerprint: fingerprintOf(der),
      };
    });
    reply(200, { PublicKeyList: page, ...(index + 1 < valid.length ? { NextToken: String(index + 1) } : {}) });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () =>
    new Promise<void>((resolve) => {
      for (const req of held) req.socket.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return stub;
}
