/** The meta API: a trusted service session per realm offering wamp.session.* and wamp.registration.*. */
import type { Router } from '../core/router.ts';
import { attachRegistrationApi } from './registration-api.ts';
import { attachSessionApi } from './session-api.ts';
import { ServiceSession } from './service-session.ts';

export function enableMetaApi(router: Router): void {
  for (const realm of router.realms.values()) {
    const service = new ServiceSession(router, realm.name);
    attachSessionApi(router, realm, service);
    attachRegistrationApi(realm, service);
  }
  router.announce('dealer', 'session_meta_api');
  router.announce('dealer', 'registration_meta_api');
  router.announce('broker', 'session_meta_api');
}
