/** A minimal typed event emitter: the owner keeps it private and exposes `event` as `onX`. */
import type { Disposable } from './transport.js';

export class Emitter<T> {
  // Copy-on-write: register and dispose replace the array, so fire() can iterate without a copy.
  private listeners: ((value: T) => void)[] = [];

  /** Number of registered listeners. */
  get size(): number {
    return this.listeners.length;
  }

  /** Registers a listener; dispose() removes it. */
  readonly event = (listener: (value: T) => void): Disposable => {
    this.listeners = [...this.listeners, listener];
    return {
      dispose: () => {
        this.listeners = this.listeners.filter((l) => l !== listener);
      },
    };
  };

  /** Calls every listener registered now, in order. A throwing listener's error propagates. */
  fire(value: T): void {
    for (const l of this.listeners) l(value);
  }

  /** Removes every listener. */
  clear(): void {
    this.listeners = [];
  }
}
