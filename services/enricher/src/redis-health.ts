// Whether the enricher counts Redis as up, for /readyz and the redis_up gauge. A failed claim marks it
// down; a successful claim, the client's reconnect or an answered PING marks it up again. The PINGs
// are what matter when no batch comes to prove Redis back: an enricher that has caught up, or whose
// failed batch belonged to a partition it has since lost, otherwise stayed "not ready" for good after
// one slow answer (seen as a flaky crash test under load: a frozen instance's claim timed out).
import { setTimeout as sleep } from "node:timers/promises";

export interface RedisHealthOptions {
  ping: () => Promise<unknown>;
  onChange: (up: boolean, why: string) => void;
  /** The first wait before a PING; doubled after each failure up to retryMaxMs. */
  firstDelayMs?: number;
  retryMaxMs: number;
}

export class RedisHealth {
  readonly #options: RedisHealthOptions;
  #up = false;
  #probing = false;
  #closed = false;

  constructor(options: RedisHealthOptions) {
    this.#options = options;
  }

  get up(): boolean {
    return this.#up;
  }

  markUp(): void {
    if (this.#up || this.#closed) return;
    this.#up = true;
    this.#options.onChange(true, "");
  }

  /** Down, and PINGed until it answers (unless a claim or a reconnect says so first). */
  markDown(why: string): void {
    if (this.#closed) return;
    if (this.#up) {
      this.#up = false;
      this.#options.onChange(false, why);
    }
    void this.#probe();
  }

  close(): void {
    this.#closed = true;
  }

  async #probe(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    let delay = this.#options.firstDelayMs ?? 250;
    try {
      while (!this.#up && !this.#closed) {
        // Unreferenced: a probe never keeps a stopping process alive.
        await sleep(delay, undefined, { ref: false });
        if (this.#up || this.#closed) break;
        try {
          await this.#options.ping();
          this.markUp();
        } catch {
          delay = Math.min(delay * 2, this.#options.retryMaxMs);
        }
      }
    } finally {
      this.#probing = false;
    }
  }
}
