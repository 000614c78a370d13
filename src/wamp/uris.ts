/**
 * Every error and close reason URI the router sends, in one place: the
 * spec's (WAMP: basic/uri_reference.md, advanced/uris.md), Crossbar's that
 * its clients know, and Kreuz's own.
 */
export const ErrorUri = {
  INVALID_URI: 'wamp.error.invalid_uri',
  INVALID_ARGUMENT: 'wamp.error.invalid_argument',
  NO_SUCH_PROCEDURE: 'wamp.error.no_such_procedure',
  PROCEDURE_ALREADY_EXISTS: 'wamp.error.procedure_already_exists',
  // Autobahn/Crossbar URI, not in the spec; clients know it.
  PROCEDURE_EXISTS_WITH_DIFFERENT_INVOCATION_POLICY: 'wamp.error.procedure_exists_with_different_invocation_policy',
  NO_SUCH_REGISTRATION: 'wamp.error.no_such_registration',
  NO_SUCH_SUBSCRIPTION: 'wamp.error.no_such_subscription',
  NO_SUCH_REALM: 'wamp.error.no_such_realm',
  NO_SUCH_SESSION: 'wamp.error.no_such_session',
  NO_SUCH_ROLE: 'wamp.error.no_such_role',
  NO_SUCH_PRINCIPAL: 'wamp.error.no_such_principal',
  // Crossbar's spelling; the spec's is wamp.error.no_matching_auth_method.
  NO_AUTH_METHOD: 'wamp.error.no_auth_method',
  CANCELED: 'wamp.error.canceled',
  TIMEOUT: 'wamp.error.timeout',
  PROTOCOL_VIOLATION: 'wamp.error.protocol_violation',
  NOT_AUTHORIZED: 'wamp.error.not_authorized',
  AUTHORIZATION_FAILED: 'wamp.error.authorization_failed',
  AUTHENTICATION_FAILED: 'wamp.error.authentication_failed',
  PAYLOAD_SIZE_EXCEEDED: 'wamp.error.payload_size_exceeded',
  // WAMP: a payload the router cannot pass on (here: the recipient's serializer cannot express it).
  INVALID_PAYLOAD: 'wamp.error.invalid_payload',
  FEATURE_NOT_SUPPORTED: 'wamp.error.feature_not_supported',
  // Autobahn's URI for a procedure that failed with an exception that is no WAMP error.
  RUNTIME_ERROR: 'wamp.error.runtime_error',
  // Crossbar's reasons in UNREGISTERED / UNSUBSCRIBED sent when the router takes a registration or subscription away.
  UNREGISTERED: 'wamp.error.unregistered',
  UNSUBSCRIBED: 'wamp.error.unsubscribed',
  // Crossbar's answer to wamp.subscription.get_events on a topic without event history.
  HISTORY_UNAVAILABLE: 'wamp.error.history_unavailable',
} as const;

/** Crossbar's URIs outside "wamp.", kept so Crossbar's clients recognise them. */
export const CrossbarUri = {
  /** A call refused because every callee is at its concurrency limit (and the queue, if any, is full). */
  MAX_CONCURRENCY_REACHED: 'crossbar.error.max_concurrency_reached',
} as const;

/** Kreuz's own URIs: what its limits and containment answer (see core/limits.ts, transports/connection.ts). */
export const KreuzUri = {
  /** A request or connection over one of the router's limits. */
  LIMIT_REACHED: 'kreuz.error.limit_reached',
  /** ABORT: a session sent faster than its message rate, or too many authentications wait from its address. */
  RATE_LIMITED: 'kreuz.error.rate_limited',
  /** The connection is dropped: the client does not read what it is sent. */
  SLOW_CONSUMER: 'kreuz.error.slow_consumer',
  /** A REGISTER needs the cluster's registry, which cannot be written now (NATS unreachable, no quorum). */
  CLUSTER_UNAVAILABLE: 'kreuz.error.cluster_unavailable',
} as const;

export const CloseUri = {
  SYSTEM_SHUTDOWN: 'wamp.close.system_shutdown',
  CLOSE_REALM: 'wamp.close.close_realm',
  GOODBYE_AND_OUT: 'wamp.close.goodbye_and_out',
  KILLED: 'wamp.close.killed',
} as const;
