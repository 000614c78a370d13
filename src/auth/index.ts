/**
 * Authentication methods (WAMP: advanced/authentication) and the builder
 * that turns a Crossbar transport `auth` dict into the TransportAuth the
 * router uses, e.g.
 *
 *   { anonymous: {type: 'static', role: 'public'},
 *     ticket: {type: 'static', principals: {joe: {ticket: 'secret!!!', role: 'frontend'}}},
 *     wampcra: {type: 'dynamic', authenticator: 'com.example.authenticate'} }
 *
 * Methods: anonymous, ticket, wampcra, cryptosign, scram (also offered as
 * "wamp-scram"; either key may be configured). Each is `{"type": "static", ...}`
 * or `{"type": "dynamic", "authenticator": <procedure>, "authenticator-realm"?}`;
 * each method's file has its config schema, transport-auth.ts the table of them.
 */
export { AuthConfigError, constantTimeEqual } from './common.ts';
export { AUTH_METHODS, buildTransportAuth, transportAuthSchema, type AuthDeps, type TransportAuthConfig } from './transport-auth.ts';
export type { AuthMethod } from './method.ts';
export { generatedAuthid, staticAnonymous, dynamicAnonymous } from './anonymous.ts';
export { staticTicket, dynamicTicket, type TicketPrincipal } from './ticket.ts';
export { deriveKey, sign as signWampCra, staticWampCra, dynamicWampCra, type CraUser } from './wampcra.ts';
export { ed25519PublicKey, verifyCryptosign, staticCryptosign, dynamicCryptosign, type CryptosignPrincipal } from './cryptosign.ts';
export {
  deriveScramCredential,
  saltedPassword,
  scramKeys,
  authMessages,
  verifyClientProof,
  staticScram,
  dynamicScram,
  SCRAM_KDFS,
  type ScramCredential,
  type ScramKdf,
  type ScramPrincipal,
} from './scram.ts';
export { callAuthenticator, DEFAULT_DYNAMIC_TIMEOUT_MS, type DynamicConfig, type DynamicDeps } from './dynamic.ts';
