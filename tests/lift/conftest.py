"""A sandbox shop with a campaign, four creators with agreements in it, and a link each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from plugin.models import Agreement, Creator, ReferralLink
from plugin.services.links import create_link
from plugin.tenancy import Tenant
from tests.links.conftest import Store, make_store


@dataclass
class Campaign:
    store: Store
    tenant: Tenant
    creators: list[Creator]
    agreements: dict[int, Agreement]
    links: dict[int, ReferralLink]


@pytest.fixture
def store(session: Session) -> Store:
    created = make_store(session)
    session.commit()
    return created


@pytest.fixture
def campaign(session: Session) -> Campaign:
    store = make_store(session)
    tenant = Tenant(session, store.shop.id)
    creators = [store.creator] + [
        tenant.add(Creator(handle=handle, name=handle.title())) for handle in ("bea", "cy", "dee")
    ]
    session.flush()
    agreements = {
        creator.id: tenant.add(Agreement(creator_id=creator.id, campaign_id=store.campaign.id))
        for creator in creators
    }
    session.flush()
    links = {
        creator.id: create_link(
            session,
            store.shop.id,
            creator.id,
            target_path="/products/mug",
            campaign_id=store.campaign.id,
        )
        for creator in creators
    }
    session.commit()
    return Campaign(store, tenant, creators, agreements, links)
