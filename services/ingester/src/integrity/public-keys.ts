// CloudTrail's public keys, by fingerprint: from a file (what `aws cloudtrail list-public-keys`
// printed, for offline use and tests) or from ListPublicKeys in the Region that delivered the
// digest. A fingerprint always names the same key, so a key once fetched is kept for good.
import { CloudTrailClient, ListPublicKeysCommand } from "@aws-sdk/client-cloudtrail";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { Keyring, type PublicKey, parsePublicKeyList } from "@trailstream/cloudtrail";

export interface PublicKeySource {
  /** The key, or undefined when the Region has none with that fingerprint. */
  find(fingerprint: string, region: string, digestEndMs: number): Promise<PublicKey | undefined>;
}

export function keysFromJson(json: unknown, where: string): PublicKeySource {
  const keys = parsePublicKeyList(json);
  if (!keys.ok) throw new Error(`${where}: ${keys.error.message}`);
  const ring = new Keyring();
  ring.add(keys.value);
  return { find: async (fingerprint) => ring.get(fingerprint) };
}

const HOUR = 3_600_000;

/**
 * CloudTrail clients per Region for ListPublicKeys. The SDK waits forever for an endpoint that
 * accepts and never answers; bounded here, such a digest fails (and its message is retried) instead
 * of holding a file slot for good.
 */
export function cloudTrailClients(
  endpoint: string | undefined,
  timeouts: { connectMs?: number; requestMs?: number } = {},
): (region: string) => CloudTrailClient {
  return (region) =>
    new CloudTrailClient({
      region,
      ...(endpoint ? { endpoint } : {}),
      requestHandler: new NodeHttpHandler({
        connectionTimeout: timeouts.connectMs ?? 5_000,
        requestTimeout: timeouts.requestMs ?? 10_000,
        throwOnRequestTimeout: true,
      }),
    });
}

export class ListPublicKeysSource implements PublicKeySource {
  readonly #ring = new Keyring();
  readonly #clients = new Map<string, CloudTrailClient>();
  readonly #client: (region: string) => CloudTrailClient;
  /** Fetches per Region and window, so a burst of digests asks once. */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(client: (region: string) => CloudTrailClient) {
    this.#client = client;
  }

  async find(fingerprint: string, region: string, digestEndMs: number): Promise<PublicKey | undefined> {
    const known = this.#ring.get(fingerprint);
    if (known) return known;
    // validate-logs asks from the digest's hour to two hours past it, for keys rotated near its end.
    const hour = Math.floor(digestEndMs / HOUR) * HOUR;
    const flight = `${region}|${hour}`;
    let fetching = this.#inFlight.get(flight);
    if (!fetching) {
      fetching = this.#fetch(region, new Date(hour - HOUR), new Date(hour + 2 * HOUR)).finally(() =>
        this.#inFlight.delete(flight),
      );
      this.#inFlight.set(flight, fetching);
    }
    await fetching;
    return this.#ring.get(fingerprint);
  }

  async #fetch(region: string, start: Date, end: Date): Promise<void> {
    let client = this.#clients.get(region);
    if (!client) {
      client = this.#client(region);
      this.#clients.set(region, client);
    }
    let token: string | undefined;
    do {
      const out = await client
        .send(new ListPublicKeysCommand({ StartTime: start, EndTime: end, ...(token ? { NextToken: token } : {}) }))
        .catch((error: unknown) => {
          const e = error as { name?: string; message?: string };
          throw new Error(`ListPublicKeys in ${region} failed: ${e.name ?? "Error"}: ${e.message ?? String(error)}`, {
            cause: error,
          });
        });
      const keys = parsePublicKeyList({ PublicKeyList: out.PublicKeyList ?? [] });
      if (!keys.ok) throw new Error(`ListPublicKeys in ${region}: ${keys.error.message}`);
      this.#ring.add(keys.value);
      token = out.NextToken;
    } while (token);
  }

  close(): void {
    for (const c of this.#clients.values()) c.destroy();
  }
}
