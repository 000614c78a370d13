import { Broker } from './broker.ts';
import { Dealer } from './dealer.ts';
import type { Session } from './session.ts';

export interface RealmConfig {
  name: string;
}

/** A routing namespace: sessions of one realm see only each other. */
export class Realm {
  readonly sessions = new Map<number, Session>();
  readonly dealer = new Dealer();
  readonly broker = new Broker();

  constructor(readonly name: string) {}

  join(session: Session): void {
    this.sessions.set(session.id, session);
  }

  leave(session: Session): void {
    this.dealer.detach(session);
    this.broker.detach(session);
    this.sessions.delete(session.id);
  }
}
