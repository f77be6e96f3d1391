"""The rewards admin API: Try & Tag settings and rewards, sprints; every answer documented,
every row visible to its own shop only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from plugin.db import get_session
from plugin.models import utcnow
from plugin.models.ugc import UgcPost
from plugin.services import ugc
from plugin.tenancy import Tenant
from tests.admin.conftest import Api, ShopKey
from tests.admin.factories import make_campaign, make_creator
from tests.rewards.factories import make_sprint, open_program, paid_order, submit

RunJobs = Callable[[], int]
DAY = timedelta(days=1)


def test_try_and_tag_settings_start_closed_and_change_per_shop(
    api: Api, shop_a: ShopKey, shop_b: ShopKey
) -> None:
    # given
    default = api.get("/api/v1/try-and-tag/settings", shop_a)
    # when
    changed = api.call(
        "PUT",
        "/api/v1/try-and-tag/settings",
        shop_a,
        json={"enabled": True, "discount_kind": "fixed_amount", "discount_value": 500},
    )
    # then
    assert default.status_code == 200
    assert default.get_json() == {
        "enabled": False,
        "discount_kind": "percentage",
        "discount_value": 1000,
        "code_valid_days": 30,
        "code_prefix": "TAG",
        "require_order": False,
        "terms": "",
        "verify_posts": True,
        "allowed_networks": ["instagram", "tiktok", "youtube", "pinterest"],
        "reward_kind": "discount_code",
        "currency": "USD",
        "offer": "10% off",
        "form_url": "https://tastemaker.test/try-and-tag/pk_alpha.example",
    }
    assert changed.status_code == 200
    assert (changed.get_json()["enabled"], changed.get_json()["offer"]) == (True, "USD 5.00 off")
    assert api.get("/api/v1/try-and-tag/settings", shop_a).get_json()["code_valid_days"] == 30
    assert api.get("/api/v1/try-and-tag/settings", shop_b).get_json()["enabled"] is False


def test_try_and_tag_settings_are_validated_field_by_field(api: Api, shop_a: ShopKey) -> None:
    response = api.call(
        "PUT",
        "/api/v1/try-and-tag/settings",
        shop_a,
        json={"discount_value": 20_000, "code_prefix": "tag!", "code_valid_days": 0},
    )
    merged = api.call(
        "PUT", "/api/v1/try-and-tag/settings", shop_a, json={"discount_value": 20_000}
    )
    assert response.status_code == 422
    assert response.get_json()["fields"] == {
        "code_prefix": "must be 1-12 capital letters or digits",
        "code_valid_days": "must be between 1 and 365",
    }
    assert merged.status_code == 422
    assert merged.get_json()["fields"] == {
        "discount_value": "must be between 1 and 10000 basis points"
    }


def test_rewards_are_listed_per_shop_and_a_failed_one_can_be_retried(
    api: Api, session: Session, shop_a: ShopKey, shop_b: ShopKey, run_jobs: RunJobs
) -> None:
    # given two rewards in shop A (one failed) and one in shop B
    open_program(session, shop_a.shop)
    open_program(session, shop_b.shop)
    waiting, _ = submit(session, shop_a.shop)
    failed, _ = submit(
        session, shop_a.shop, post_url="https://youtu.be/abc", email="jo@example.com"
    )
    theirs, _ = submit(session, shop_b.shop)
    post = get_session().get(UgcPost, failed.ugc_post_id)
    assert post is not None
    ugc.moderate(Tenant(get_session(), shop_a.id), post, "approve")
    failed.status, failed.error = "failed", "the store said no"
    get_session().commit()
    # when
    listed = api.get("/api/v1/rewards", shop_a)
    only_failed = api.get("/api/v1/rewards?status=failed", shop_a)
    foreign = api.get(f"/api/v1/rewards/{theirs.id}", shop_a)
    conflict = api.post(f"/api/v1/rewards/{waiting.id}/retry", shop_a)
    retried = api.post(f"/api/v1/rewards/{failed.id}/retry", shop_a)
    ran = run_jobs()
    # then
    assert [r["id"] for r in listed.get_json()["data"]] == [failed.id, waiting.id]
    row = listed.get_json()["data"][1]
    assert (row["status"], row["author_handle"], row["post_url"], row["moderation_status"]) == (
        "submitted",
        "lena.daily",
        "https://www.instagram.com/p/Cx1",
        "pending",
    )
    assert [r["id"] for r in only_failed.get_json()["data"]] == [failed.id]
    assert foreign.status_code == 404
    assert conflict.status_code == 409
    assert retried.status_code == 202
    assert (retried.get_json()["status"], retried.get_json()["error"]) == ("pending", None)
    # the approval's job and the retry's (one issues, the other finds it done), and the email
    assert ran == 3
    issued = api.get(f"/api/v1/rewards/{failed.id}", shop_a).get_json()
    assert issued["status"] == "issued"
    assert issued["code"].startswith("TAG-")
    assert [r["id"] for r in api.get("/api/v1/rewards", shop_b).get_json()["data"]] == [theirs.id]
    assert api.post(f"/api/v1/rewards/{theirs.id}/retry", shop_a).status_code == 404


def test_sprints_are_created_validated_and_changed_until_settled(
    api: Api, session: Session, shop_a: ShopKey, shop_b: ShopKey
) -> None:
    # given
    now = utcnow()
    foreign_campaign = make_campaign(session, shop_b.shop)
    session.commit()
    window = {"starts_at": now.isoformat(), "ends_at": (now + 7 * DAY).isoformat()}
    # when
    created = api.post(
        "/api/v1/sprints",
        shop_a,
        json={
            "name": "Week 48",
            "credit_per_order_minor": 50,
            "cap_per_creator_minor": 500,
            **window,
        },
    )
    invalid = api.post(
        "/api/v1/sprints",
        shop_a,
        json={
            "name": "Backwards",
            "starts_at": (now + DAY).isoformat(),
            "ends_at": now.isoformat(),
            "credit_per_order_minor": 0,
            "campaign_id": foreign_campaign.id,
        },
    )
    past = api.post(
        "/api/v1/sprints",
        shop_a,
        json={
            "name": "Past",
            "starts_at": (now - 7 * DAY).isoformat(),
            "ends_at": (now - DAY).isoformat(),
            "credit_per_order_minor": 50,
        },
    )
    # then
    assert created.status_code == 201
    sprint = created.get_json()
    assert (sprint["status"], sprint["currency"], sprint["cap_per_creator_minor"]) == (
        "running",
        "USD",
        500,
    )
    assert invalid.status_code == 422
    assert invalid.get_json()["fields"] == {
        "credit_per_order_minor": "must be between 1 and 1000000000"
    }
    assert past.status_code == 422
    assert past.get_json()["fields"] == {"ends_at": "must be in the future"}
    path = f"/api/v1/sprints/{sprint['id']}"
    wrong_campaign = api.patch(path, shop_a, json={"campaign_id": foreign_campaign.id})
    backwards = api.patch(path, shop_a, json={"ends_at": (now - DAY).isoformat()})
    renamed = api.patch(path, shop_a, json={"name": "Week 48 (extended)"})
    assert wrong_campaign.get_json()["fields"] == {"campaign_id": "is not a campaign of this shop"}
    assert backwards.get_json()["fields"] == {"ends_at": "must be after starts_at"}
    assert renamed.get_json()["name"] == "Week 48 (extended)"
    assert [s["id"] for s in api.get("/api/v1/sprints", shop_a).get_json()["data"]] == [
        sprint["id"]
    ]
    assert api.get("/api/v1/sprints", shop_b).get_json()["data"] == []
    assert api.get(path, shop_b).status_code == 404
    assert api.patch(path, shop_b, json={"name": "mine"}).status_code == 404
    assert api.delete(path, shop_b).status_code == 404
    assert api.delete(path, shop_a).status_code == 204
    assert api.get(path, shop_a).status_code == 404


def test_leaderboard_and_settlement_through_the_api(
    api: Api, session: Session, shop_a: ShopKey, shop_b: ShopKey, run_jobs: RunJobs
) -> None:
    # given a running sprint and one that ended an hour ago
    now = utcnow()
    running = make_sprint(session, shop_a.shop, now - 2 * DAY, now + DAY, credit=40)
    ended = make_sprint(session, shop_a.shop, now - 3 * DAY, now - timedelta(hours=1), credit=40)
    anna, ben = (
        make_creator(session, shop_a.shop, "anna"),
        make_creator(session, shop_a.shop, "ben"),
    )
    for creator, count in ((anna, 2), (ben, 1)):
        for _ in range(count):
            paid_order(session, shop_a.shop, creator, now - DAY)
    session.commit()
    # when
    board = api.get(f"/api/v1/sprints/{running.id}/leaderboard", shop_a)
    early = api.post(f"/api/v1/sprints/{running.id}/settle", shop_a)
    foreign = api.post(f"/api/v1/sprints/{ended.id}/settle", shop_b)
    settling = api.post(f"/api/v1/sprints/{ended.id}/settle", shop_a)
    ran = run_jobs()
    settled = api.get(f"/api/v1/sprints/{ended.id}", shop_a)
    again = api.post(f"/api/v1/sprints/{ended.id}/settle", shop_a)
    frozen = api.patch(f"/api/v1/sprints/{ended.id}", shop_a, json={"name": "x"})
    kept = api.delete(f"/api/v1/sprints/{ended.id}", shop_a)
    # then
    assert board.status_code == 200
    body = board.get_json()
    assert (body["status"], body["total_credit_minor"], body["currency"]) == ("running", 120, "USD")
    assert body["entries"] == [
        {"rank": 1, "creator_id": anna.id, "handle": "anna", "orders": 2, "credit_minor": 80},
        {"rank": 2, "creator_id": ben.id, "handle": "ben", "orders": 1, "credit_minor": 40},
    ]
    assert api.get(f"/api/v1/sprints/{running.id}/leaderboard", shop_b).status_code == 404
    assert early.status_code == 409
    assert early.get_json()["message"] == "a sprint can be settled once it has ended"
    assert foreign.status_code == 404
    assert (settling.status_code, settling.get_json()["status"], ran) == (202, "ended", 1)
    assert (settled.get_json()["status"], settled.get_json()["settled_total_minor"]) == (
        "settled",
        120,
    )
    assert settled.get_json()["settled_creators"] == 2
    assert [r.status_code for r in (again, frozen, kept)] == [409, 409, 409]
    bonuses = api.get("/api/v1/ledger?kind=bonus", shop_a).get_json()["data"]
    assert sorted((e["creator_id"], e["amount_minor"]) for e in bonuses) == [
        (anna.id, 80),
        (ben.id, 40),
    ]
    assert api.get("/api/v1/ledger?kind=bonus", shop_b).get_json()["data"] == []


def test_every_rewards_route_needs_a_shop_and_is_documented(api: Api) -> None:
    paths = api.document["paths"]
    assert set(paths["/api/v1/sprints/{sprint_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/api/v1/try-and-tag/settings"]) == {"get", "put"}
    assert "post" in paths["/api/v1/sprints/{sprint_id}/settle"]
    assert "get" in paths["/api/v1/sprints/{sprint_id}/leaderboard"]
    for path in ("/api/v1/rewards", "/api/v1/sprints", "/api/v1/try-and-tag/settings"):
        assert api.get(path, None).status_code == 401
