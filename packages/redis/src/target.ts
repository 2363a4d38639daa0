// REDIS_URL: one grammar for the three ways to deploy Redis. Pure: no client, no I/O.
//
//   redis://[user[:password]@]host[:port][/db]                        one server (port 6379, db 0)
//   rediss://...                                                      the same over TLS
//   redis+sentinel://[user[:password]@]host[:port][,host[:port]...]/master[/db]
//                                                                     Sentinels (port 26379) that
//                                                                     name the master
//   rediss+sentinel://...                                             TLS to Sentinels and servers
//   redis+cluster://[user[:password]@]host[:port][,host[:port]...]    Redis Cluster seed nodes
//                                                                     (port 6379; db 0 only)
//   rediss+cluster://...                                              TLS to every node
//
// A host may be an IPv6 address in brackets ([::1]:6379). User and password are percent-encoded
// and are the data nodes' ACL credentials (Sentinels are reached without them).

export interface RedisNode {
  host: string;
  port: number;
}

export interface RedisCredentials {
  username?: string;
  password?: string;
}

interface TargetBase {
  tls: boolean;
  credentials: RedisCredentials;
}

export type RedisTarget =
  | (TargetBase & { kind: "single"; node: RedisNode; db: number })
  | (TargetBase & { kind: "sentinel"; sentinels: RedisNode[]; masterName: string; db: number })
  | (TargetBase & { kind: "cluster"; seeds: RedisNode[] });

export class RedisUrlError extends Error {
  override readonly name = "RedisUrlError";
}

const SCHEMES: Record<string, { kind: RedisTarget["kind"]; tls: boolean }> = {
  "redis:": { kind: "single", tls: false },
  "rediss:": { kind: "single", tls: true },
  "redis+sentinel:": { kind: "sentinel", tls: false },
  "rediss+sentinel:": { kind: "sentinel", tls: true },
  "redis+cluster:": { kind: "cluster", tls: false },
  "rediss+cluster:": { kind: "cluster", tls: true },
};

export const REDIS_URL_FORMS =
  "redis://host:6379, rediss://host:6379, redis+sentinel://s1:26379,s2:26379/mymaster or redis+cluster://n1:6379,n2:6379";

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError(`REDIS_URL: the ${what} is not percent-encoded correctly`);
  }
}

function parseNode(text: string, defaultPort: number): RedisNode {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/@,]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) throw new RedisUrlError(`REDIS_URL: "${text}" is not host or host:port`);
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (!(port >= 1 && port <= 65_535)) throw new RedisUrlError(`REDIS_URL: port ${m[3]} is out of range`);
  return { host: (m[1] ?? m[2]) as string, port };
}

function parseDb(text: string | undefined): number {
  if (text === undefined || text === "") return 0;
  if (!/^\d{1,5}$/.test(text)) throw new RedisUrlError(`REDIS_URL: the database "${text}" is not a number`);
  return Number(text);
}

/**
 * Parses REDIS_URL. `override` (REDIS_USERNAME, REDIS_PASSWORD, which the chart passes from a
 * Secret) wins over credentials written in the URL.
 */
export function parseRedisUrl(url: string, override: RedisCredentials = {}): RedisTarget {
  const text = url.trim();
  const schemeEnd = text.indexOf("//");
  const scheme = schemeEnd > 0 ? text.slice(0, schemeEnd).toLowerCase() : "";
  const form = SCHEMES[scheme];
  if (!form) throw new RedisUrlError(`REDIS_URL must look like ${REDIS_URL_FORMS}`);
  let rest = text.slice(schemeEnd + 2);
  if (/[?#]/.test(rest)) throw new RedisUrlError("REDIS_URL takes no query or fragment (?…, #…)");

  const credentials: RedisCredentials = {};
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const userInfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userInfo.indexOf(":");
    const user = decode(colon < 0 ? userInfo : userInfo.slice(0, colon), "user name");
    const password = colon < 0 ? "" : decode(userInfo.slice(colon + 1), "password");
    if (user) credentials.username = user;
    if (password) credentials.password = password;
  }
  if (override.username) credentials.username = override.username;
  if (override.password) credentials.password = override.password;

  const slash = rest.indexOf("/");
  const hostList = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? [] : rest.slice(slash + 1).split("/");
  if (hostList === "") throw new RedisUrlError("REDIS_URL names no host");
  const hosts = hostList.split(",");
  const base = { tls: form.tls, credentials };

  switch (form.kind) {
    case "single": {
      if (hosts.length > 1) {
        throw new RedisUrlError(
          "REDIS_URL names several hosts: use redis+cluster:// for a Redis Cluster or redis+sentinel:// for Sentinels",
        );
      }
      if (path.length > 1) throw new RedisUrlError("REDIS_URL: after the host only a database number may follow");
      return { ...base, kind: "single", node: parseNode(hosts[0] as string, 6379), db: parseDb(path[0]) };
    }
    case "sentinel": {
      const masterName = path[0] ? decode(path[0], "master name") : "";
      if (!masterName) throw new RedisUrlError("REDIS_URL: redis+sentinel:// needs the master's name: …/mymaster");
      if (path.length > 2)
        throw new RedisUrlError("REDIS_URL: after the master's name only a database number may follow");
      return {
        ...base,
        kind: "sentinel",
        sentinels: hosts.map((h) => parseNode(h, 26379)),
        masterName,
        db: parseDb(path[1]),
      };
    }
    case "cluster": {
      if (path.some((p) => p !== "" && p !== "0")) {
        throw new RedisUrlError("REDIS_URL: a Redis Cluster has only database 0");
      }
      return { ...base, kind: "cluster", seeds: hosts.map((h) => parseNode(h, 6379)) };
    }
  }
}

const showNode = (n: RedisNode) => `${n.host.includes(":") ? `[${n.host}]` : n.host}:${n.port}`;

/** The target as a URL with the password masked: safe for logs, metrics labels and errors. */
export function describeTarget(target: RedisTarget): string {
  const scheme = `${target.tls ? "rediss" : "redis"}${target.kind === "single" ? "" : `+${target.kind}`}://`;
  const { username, password } = target.credentials;
  const user = username || password ? `${encodeURIComponent(username ?? "")}${password ? ":***" : ""}@` : "";
  switch (target.kind) {
    case "single":
      return `${scheme}${user}${showNode(target.node)}/${target.db}`;
    case "sentinel":
      return `${scheme}${user}${target.sentinels.map(showNode).join(",")}/${encodeURIComponent(target.masterName)}/${target.db}`;
    case "cluster":
      return `${scheme}${user}${target.seeds.map(showNode).join(",")}`;
  }
}
