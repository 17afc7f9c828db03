// Session events for tests that feed a BmpSession and only look at its routes.
import type { SessionEvents } from '../session.js';

export const noSessionEvents: SessionEvents = {
  initiated() {},
  peerUp() {},
  peerDown() {},
  endOfRib() {},
  statistics() {},
  updateError() {},
};
