/**
 * Typed hooks: how the meta API (and later metrics) learn of core events
 * without the core knowing them. Listeners run synchronously, after the
 * reply to the request that caused the event has been sent.
 */
import type { Registration } from './registration.ts';
import type { Session } from './session.ts';
import type { Subscription } from './subscription.ts';

export interface RealmEvents {
  /** A session joined (after WELCOME). */
  join(session: Session): void;
  /** A session left (after its registrations and subscriptions were removed). */
  leave(session: Session): void;
  registrationCreated(session: Session, registration: Registration): void;
  calleeAdded(session: Session, registration: Registration): void;
  calleeRemoved(session: Session, registration: Registration): void;
  registrationDeleted(session: Session, registration: Registration): void;
  subscriptionCreated(session: Session, subscription: Subscription): void;
  subscriberAdded(session: Session, subscription: Subscription): void;
  subscriberRemoved(session: Session, subscription: Subscription): void;
  subscriptionDeleted(session: Session, subscription: Subscription): void;
}

export class Hooks<E extends { [K in keyof E]: (...args: any[]) => void }> {
  private readonly listeners: Array<Partial<E>> = [];

  /** Where a listener's exception goes: it must not stop the core half-way through a change. */
  constructor(private readonly onError: (event: string, err: unknown) => void = () => {}) {}

  add(listener: Partial<E>): void {
    this.listeners.push(listener);
  }

  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    for (const listener of this.listeners) {
      try {
        listener[event]?.(...args);
      } catch (err) {
        this.onError(String(event), err);
      }
    }
  }
}

/** Timers as the core uses them; handed in so tests and hosts can control time. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unref'd: the router's deadlines never keep a process alive on their own (its sockets do). */
export const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
