/**
 * An async generator over the items of a source of batches that hands out each batch's items
 * without a generator step per item: while a batch lasts, `next` resolves with its next item at
 * once; when it runs out, the next batch is pulled. A generator function that yielded each item
 * would await once per item, which costs more than the rest of reading a stream entry.
 *
 * Requests are served in the order they are made: a `next` made while a batch is on its way
 * waits behind the ones before it. `return` and `throw` end the source (its `finally` blocks
 * run) and settle as a generator's do when it has no `try` around its `yield`.
 */
export class BatchIterator<T> implements AsyncGenerator<T> {
  private batch: readonly T[] = [];
  private at = 0;
  private finished = false;
  /** Requests waiting behind a pull (served in order once it settles). */
  private waiting = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly source: AsyncGenerator<readonly T[]>) {}

  next(): Promise<IteratorResult<T>> {
    if (this.waiting === 0 && this.at < this.batch.length) {
      return Promise.resolve({ value: this.batch[this.at++] as T, done: false });
    }
    return this.enqueue(() => this.pull());
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    return this.enqueue(async () => {
      await this.finish();
      return { value, done: true };
    });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    return this.enqueue(async () => {
      await this.finish();
      throw error;
    });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return(undefined);
  }

  private enqueue(step: () => Promise<IteratorResult<T>>): Promise<IteratorResult<T>> {
    this.waiting++;
    const result = this.queue.then(step).finally(() => {
      this.waiting--;
    });
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async pull(): Promise<IteratorResult<T>> {
    while (this.at >= this.batch.length) {
      if (this.finished) return { value: undefined, done: true };
      let next: IteratorResult<readonly T[]>;
      try {
        next = await this.source.next();
      } catch (error) {
        this.finished = true;
        throw error;
      }
      if (next.done === true) {
        this.finished = true;
        return { value: undefined, done: true };
      }
      this.batch = next.value;
      this.at = 0;
    }
    return { value: this.batch[this.at++] as T, done: false };
  }

  private async finish(): Promise<void> {
    this.batch = [];
    this.at = 0;
    if (this.finished) return;
    this.finished = true;
    await this.source.return(undefined);
  }
}
