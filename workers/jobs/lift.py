"""Lift-test jobs: switch on each staggered-launch wave when its date comes.

Safe to run twice or concurrently: an assignment is activated once (stamped, and locked with
SKIP LOCKED on PostgreSQL while it is), and each code or link changes only from its held state.
"""

from __future__ import annotations

import logging

from plugin.db import get_session
from plugin.models import utcnow
from plugin.services.lift import activate_due
from workers.registry import job

logger = logging.getLogger(__name__)


@job("periodic", timeout=120)
def activate_lift_waves() -> int:
    session = get_session()
    activated = activate_due(session, utcnow())
    session.commit()
    if activated:
        logger.info("lift tests: %d creator wave(s) switched on", activated)
    return activated
