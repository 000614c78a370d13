/**
 * The meta API: a trusted service session per realm offering wamp.session.*
 * (with testaments), wamp.registration.* and wamp.subscription.*.
 */
import type { Router } from '../core/router.ts';
import { attachRegistrationApi } from './registration-api.ts';
import { attachSessionApi } from './session-api.ts';
import { attachSubscriptionApi } from './subscription-api.ts';
import { attachTestamentApi } from './testament-api.ts';
import { ServiceSession } from './service-session.ts';

export function enableMetaApi(router: Router): void {
  router.onRealm((realm) => {
    const service = new ServiceSession(router, realm.name);
    attachTestamentApi(realm, service, realm.limits);
    attachSessionApi(router, realm, service);
    attachRegistrationApi(realm, service);
    attachSubscriptionApi(realm, service);
  });
  for (const feature of ['session_meta_api', 'registration_meta_api', 'testament_meta_api']) router.announce('dealer', feature);
  for (const feature of ['session_meta_api', 'subscription_meta_api']) router.announce('broker', feature);
}
