// The Kinesis client of the AWS SDK talks HTTP/2 by default (for SubscribeToShard), which the
// plain-http emulators (moto, kinesis-local) do not answer. KINESIS_HTTP_VERSION=1.1, the default
// for an http:// endpoint, gives it the SDK's HTTP/1.1 handler instead.
import { NodeHttpHandler } from "@smithy/node-http-handler";

export function http1Handler(): NodeHttpHandler {
  // A request the server never answers must fail (and be retried), not hang a shard forever.
  return new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000, throwOnRequestTimeout: true });
}
