// Deletes of finished SQS messages, gathered into DeleteMessageBatch calls of up to 10. A delete is
// a request of its own to SQS (billed as one, and on moto the second costliest request of the S3
// path after ReceiveMessage: about 3.5 ms of its CPU each, on the cores the ingester shares), while
// one batch of 10 costs about what one single delete does. A message is only handed here after every
// record of its files is acknowledged, so waiting a few milliseconds for company changes nothing but
// when SQS forgets it; a delete that fails brings the message back: copies, never a loss.
import { DeleteMessageBatchCommand, DeleteMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "@trailstream/runtime";
import { errorMessage } from "../../util.ts";

/** SQS takes at most 10 entries in one DeleteMessageBatch. */
const MAX_BATCH = 10;

interface Pending {
  receipt: string;
  done: () => void;
}

export class SqsDeletes {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;
  readonly #lingerMs: number;
  readonly #log: Logger;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { sqs: SQSClient; queueUrl: string; lingerMs: number; log: Logger }) {
    this.#sqs = options.sqs;
    this.#queueUrl = options.queueUrl;
    this.#lingerMs = options.lingerMs;
    this.#log = options.log;
  }

  /** Resolves once SQS answered for this message (deleted, or the failure logged); never rejects. */
  delete(receipt: string): Promise<void> {
    return new Promise((done) => {
      this.#pending.push({ receipt, done });
      if (this.#pending.length >= MAX_BATCH) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#lingerMs);
    });
  }

  #flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const sent = batch.length === 1 ? this.#one(batch[0] as Pending) : this.#many(batch);
    void sent.finally(() => {
      for (const p of batch) p.done();
    });
  }

  async #one(p: Pending): Promise<void> {
    try {
      await this.#sqs.send(new DeleteMessageCommand({ QueueUrl: this.#queueUrl, ReceiptHandle: p.receipt }));
    } catch (error) {
      this.#log.warn({ err: error }, "DeleteMessage failed; the message will be delivered again");
    }
  }

  async #many(batch: Pending[]): Promise<void> {
    try {
      const out = await this.#sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.#queueUrl,
          Entries: batch.map((p, i) => ({ Id: String(i), ReceiptHandle: p.receipt })),
        }),
      );
      for (const failed of out.Failed ?? []) {
        this.#log.warn(
          { code: failed.Code, reason: failed.Message },
          "DeleteMessageBatch left a message; it will be delivered again",
        );
      }
    } catch (error) {
      this.#log.warn(
        { err: error, messages: batch.length },
        `DeleteMessageBatch failed: ${errorMessage(error)}; the messages will be delivered again`,
      );
    }
  }
}
