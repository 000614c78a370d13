/**
 * Typed hooks: how the meta API, metrics (and later a cluster) learn of core
 * events without the core knowing them. Listeners run synchronously.
 */
import type { Registration } from './registration.ts';
import type { Invocation } from './invocation.ts';
import type { Session } from './session.ts';
import type { Subscription } from './subscription.ts';
import type { Publication } from './broker.ts';

/**
 * What happens on a realm. Session, registration and subscription events
 * come after the reply to the request that caused them has been sent.
 */
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
  /**
   * A new call found the registration it goes to, before anything is sent
   * for it: it is then dispatched, queued, or refused because every callee is busy.
   */
  callRouted(caller: Session, request: number, registration: Registration): void;
  /** A call reached a callee: its INVOCATION was sent (`invocation.callee` is set). */
  callInvoked(invocation: Invocation): void;
  /** A session's PUBLISH was dispatched as publication `id` (not a publication of another node). */
  published(publication: Publication, id: number): void;
}

// biome-ignore lint/suspicious/noExplicitAny: listeners of any event signature are stored together
type Listener = (...args: any[]) => void;

// biome-ignore lint/suspicious/noExplicitAny: the event map's signatures are the caller's
export class Hooks<E extends { [K in keyof E]: (...args: any[]) => void }> {
  /** Listeners by event, so an event nobody listens to costs one lookup. */
  private readonly listeners = new Map<keyof E, Listener[]>();

  /** Where a listener's exception goes: it must not stop the core half-way through a change. */
  constructor(private readonly onError: (event: string, err: unknown) => void = () => {}) {}

  add(listener: Partial<E>): void {
    for (const event of Object.keys(listener) as Array<keyof E>) {
      const fn = listener[event] as Listener | undefined;
      if (typeof fn !== 'function') continue;
      let list = this.listeners.get(event);
      if (!list) this.listeners.set(event, (list = []));
      list.push(fn.bind(listener));
    }
  }

  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const list = this.listeners.get(event);
    if (list === undefined) return;
    for (const fn of list) {
      try {
        fn(...args);
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
