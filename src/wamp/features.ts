/**
 * The router roles announced in WELCOME.Details.roles. Only features that are
 * really implemented are listed, with their exact keys (WAMP: advanced/features.md).
 */
import type { Dict } from './messages.ts';

// Opaque payloads with their ppt_* / enc_* options are forwarded unchanged
// (payload.ts): the spec's name, and Autobahn's and Crossbar's two.
const PASSTHRU_FEATURES = { payload_passthru_mode: true, payload_transparency: true, payload_encryption_cryptobox: true };

export const BROKER_FEATURES: Record<string, boolean> = {
  pattern_based_subscription: true,
  publisher_exclusion: true,
  publisher_identification: true,
  subscriber_blackwhite_listing: true,
  subscription_revocation: true,
  event_retention: true,
  event_history: true,
  ...PASSTHRU_FEATURES,
};

export const DEALER_FEATURES: Record<string, boolean> = {
  pattern_based_registration: true,
  shared_registration: true,
  caller_identification: true,
  progressive_call_results: true,
  progressive_call_invocations: true,
  call_canceling: true,
  call_timeout: true,
  registration_revocation: true,
  ...PASSTHRU_FEATURES,
};

/** A fresh copy of the features a router announces, per role. */
export function routerFeatures(): { broker: Record<string, boolean>; dealer: Record<string, boolean> } {
  return { broker: { ...BROKER_FEATURES }, dealer: { ...DEALER_FEATURES } };
}

export type ClientRole = 'publisher' | 'subscriber' | 'caller' | 'callee';

/** Whether a client announced a feature for a role in HELLO (both spellings of canceling). */
export function clientHasFeature(roles: Dict, role: ClientRole, feature: string): boolean {
  const features = (roles[role] as { features?: Dict } | undefined)?.features;
  if (!features) return false;
  if (features[feature] === true) return true;
  return feature === 'call_canceling' && features.call_cancelling === true;
}
