/** Error and close reason URIs (WAMP: basic/uri_reference.md, advanced/uris.md). */
export const ErrorUri = {
  INVALID_URI: 'wamp.error.invalid_uri',
  INVALID_ARGUMENT: 'wamp.error.invalid_argument',
  NO_SUCH_PROCEDURE: 'wamp.error.no_such_procedure',
  PROCEDURE_ALREADY_EXISTS: 'wamp.error.procedure_already_exists',
  // Autobahn/Crossbar URI, not in the spec; clients know it.
  PROCEDURE_EXISTS_WITH_DIFFERENT_INVOCATION_POLICY:
    'wamp.error.procedure_exists_with_different_invocation_policy',
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
} as const;

export const CloseUri = {
  SYSTEM_SHUTDOWN: 'wamp.close.system_shutdown',
  CLOSE_REALM: 'wamp.close.close_realm',
  GOODBYE_AND_OUT: 'wamp.close.goodbye_and_out',
  KILLED: 'wamp.close.killed',
} as const;
