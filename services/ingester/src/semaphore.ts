// A counting semaphore: the bound on files in flight.
export class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  get free(): number {
    return this.#free;
  }

  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#free++;
  }

  /** Resolves when at least one permit is free (without taking it). */
  async whenFree(): Promise<void> {
    if (this.#free > 0) return;
    await this.acquire();
    this.release();
  }
}
