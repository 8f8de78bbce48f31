/**
 * The served store behind one stable reference, so that the server can close its store and open
 * it again from the data directory (Redis's DEBUG LOADAOF) while the HTTP routes, the Redis
 * endpoint and the telemetry keep the reference they were given at start.
 *
 * The reference is a Proxy that forwards every property to the current store; methods are bound
 * to the store itself (once per store and method), so inside them `this` is the real store and
 * the hot paths pay one trap per call, not one per field they touch. Listeners added through the
 * reference are carried over to the new store.
 */
import type { Store } from "../store/index.js";

export class SwappableStore {
  private current: Store;
  private bound = new Map<PropertyKey, unknown>();
  private reopening: Promise<void> = Promise.resolve();
  /** What everyone holds: forwards to the current store. */
  readonly store: Store;

  constructor(initial: Store) {
    this.current = initial;
    this.store = new Proxy(initial, {
      get: (_target, property) => {
        const store = this.current;
        const value = Reflect.get(store, property, store);
        if (typeof value !== "function") return value;
        let method = this.bound.get(property);
        if (method === undefined) {
          method = value.bind(store);
          this.bound.set(property, method);
        }
        return method;
      },
      set: (_target, property, value) => {
        // A method replaced through the reference (a test's spy) must be the one calls reach.
        this.bound.delete(property);
        return Reflect.set(this.current, property, value, this.current);
      },
      has: (_target, property) => Reflect.has(this.current, property),
    });
  }

  get target(): Store {
    return this.current;
  }

  /**
   * Closes the current store, opens the next with `open`, and serves it; the listeners of the
   * closed store's events move to the new one. While it runs, calls reach the closed store and
   * fail with LOGBOOK_CLOSED.
   */
  reopen(open: () => Promise<Store>): Promise<void> {
    // One at a time: a second request waits for the first and then reopens again.
    const next = this.reopening.then(() => this.swap(open));
    this.reopening = next.catch(() => undefined);
    return next;
  }

  private async swap(open: () => Promise<Store>): Promise<void> {
    const old = this.current;
    await old.close();
    const next = await open();
    for (const event of old.eventNames()) {
      for (const listener of old.rawListeners(event)) next.on(event as "commit", listener as () => void);
    }
    old.removeAllListeners();
    this.current = next;
    this.bound = new Map();
  }
}
