// The Kinesis client of the AWS SDK talks HTTP/2 by default, which plain-http emulators such as
// moto do not speak. With KINESIS_HTTP_VERSION=1.1 (the default for an http:// endpoint) it gets the
// SDK's own HTTP/1.1 handler, reached through the client's dependencies so no new package is needed.
import { createRequire } from "node:module";
import type { KinesisClientConfig } from "@aws-sdk/client-kinesis";

export function http1Handler(): NonNullable<KinesisClientConfig["requestHandler"]> {
  const fromKinesis = createRequire(createRequire(import.meta.url).resolve("@aws-sdk/client-kinesis"));
  const { NodeHttpHandler } = fromKinesis("@smithy/node-http-handler") as {
    NodeHttpHandler: new (options?: { requestTimeout?: number }) => NonNullable<KinesisClientConfig["requestHandler"]>;
  };
  return new NodeHttpHandler({ requestTimeout: 30_000 });
}
