/**
 * A WAMP error as a JavaScript exception: an error URI with the ERROR
 * message's Arguments and ArgumentsKw. What the router's in-process clients
 * reject with when a request fails, and what a procedure throws to answer
 * with an ERROR.
 */
import type { Dict } from './messages.ts';

export class WampError extends Error {
  constructor(
    readonly uri: string,
    readonly args: unknown[] = [],
    readonly kwargs: Dict = {},
  ) {
    super(typeof args[0] === 'string' ? `${uri}: ${args[0]}` : uri);
    this.name = 'WampError';
  }
}
