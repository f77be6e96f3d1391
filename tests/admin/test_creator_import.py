"""Importing creators from CSV, through the JSON API and the page: preview first, per-line
errors, all rows or none, and importing the same file again changes nothing."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.models import Creator
from tests.admin.conftest import Api, ShopKey
from tests.admin.factories import make_creator
from tests.admin.test_pages import csrf, sign_in

GOOD = (
    "handle,name,email,niche,audience_size,instagram,customer_ids\n"
    'glow.with.mia,Mia Chen,mia@example.com,skincare,"42,000",@glowwithmia,c1;c2\n'
    "dewy.dan,Dan Ortiz,,sunscreen,1200,,\n"
)
BAD = (
    "handle,name,email,audience_size\n"
    "glow.with.mia,Mia Chen,mia@example.com,10\n"
    "dewy.dan,Dan,not-an-email,12\n"
    "-nope,Nope,,many\n"
    "GLOW.with.mia,Again,,1\n"
)


def creators(session: Session, shop: ShopKey) -> int:
    return session.scalar(select(func.count(Creator.id)).where(Creator.shop_id == shop.id)) or 0


def test_api_dry_run_then_import_then_reimport_changes_nothing(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    # given an existing creator whose niche the file changes
    make_creator(session, shop_a.shop, "dewy.dan", name="Dan Ortiz", niche="spf", email=None)
    session.commit()
    # when previewing
    preview = api.post("/api/v1/creators/import", shop_a, json={"csv": GOOD, "dry_run": True})
    # then nothing is written and each line says what would happen
    assert preview.status_code == 200
    body = preview.get_json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 0)
    assert [(r["line"], r["action"]) for r in body["rows"]] == [(2, "create"), (3, "update")]
    assert body["rows"][1]["changes"] == ["niche", "audience_size"]
    assert creators(session, shop_a) == 1
    # when importing
    applied = api.post("/api/v1/creators/import", shop_a, json={"csv": GOOD}).get_json()
    assert (applied["dry_run"], applied["created"], applied["updated"]) == (False, 1, 1)
    mia = session.scalars(select(Creator).where(Creator.handle == "glow.with.mia")).one()
    assert mia.audience_size == 42_000
    assert mia.social_handles == {"instagram": "@glowwithmia"}
    assert mia.customer_ids == ["c1", "c2"]
    # when importing the same file again
    again = api.post("/api/v1/creators/import", shop_a, json={"csv": GOOD}).get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert creators(session, shop_a) == 2


def test_api_reports_every_bad_line_and_imports_nothing(
    api: Api, shop_a: ShopKey, session: Session
) -> None:
    response = api.post("/api/v1/creators/import", shop_a, json={"csv": BAD})
    assert response.status_code == 422
    fields = response.get_json()["fields"]
    assert fields == {
        "line 3: email": "must be an email address",
        "line 4: audience_size": "must be a whole number",
        "line 4: handle": "must start with a letter or digit and use only letters, digits, . _ -",
        "line 5: handle": "repeats line 2",
    }
    assert creators(session, shop_a) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must not be empty"),
        ("name,email\nMia,mia@example.com\n", "the first line must name the columns"),
        ("handle,shoe_size\nmia,41\n", "unknown columns: shoe_size"),
        ("handle,name\n", "has a header but no creators"),
    ],
)
def test_api_refuses_a_file_it_cannot_read(
    api: Api, shop_a: ShopKey, text: str, message: str
) -> None:
    response = api.post("/api/v1/creators/import", shop_a, json={"csv": text})
    assert response.status_code == 422
    assert message in " ".join(response.get_json()["fields"].values())


def test_import_is_scoped_to_the_calling_shop(
    api: Api, shop_a: ShopKey, shop_b: ShopKey, session: Session
) -> None:
    make_creator(session, shop_b.shop, "glow.with.mia", niche="other shop")
    session.commit()
    body = api.post("/api/v1/creators/import", shop_a, json={"csv": GOOD}).get_json()
    assert body["created"] == 2
    other = session.scalars(
        select(Creator).where(Creator.shop_id == shop_b.id, Creator.handle == "glow.with.mia")
    ).one()
    assert other.niche == "other shop"


def test_page_previews_with_line_numbers_then_imports_all_rows(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    session.commit()
    token = csrf(sign_in(client, shop_a))
    # when a bad file is uploaded
    bad = client.post(
        "/admin/creators/import",
        data={"csrf_token": token, "file": (io.BytesIO(BAD.encode()), "creators.csv")},
        content_type="multipart/form-data",
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 200
    assert "nothing was imported" in html
    assert '<td class="num">3</td><td>email</td><td>must be an email address</td>' in html
    assert "Import " not in html.split("Preview</h2>")[1].split("Upload another")[0].replace(
        "Import creators", ""
    )
    # when a good file is previewed, nothing is written yet
    good = client.post(
        "/admin/creators/import",
        data={"csrf_token": token, "file": (io.BytesIO(GOOD.encode()), "creators.csv")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 200
    assert "2 to add" in good.get_data(as_text=True)
    assert creators(session, shop_a) == 0
    # when confirmed
    done = client.post(
        "/admin/creators/import/apply",
        data={"csrf_token": token, "csv": GOOD},
        follow_redirects=True,
    )
    assert "Imported: 2 added, 0 updated, 0 already up to date." in done.get_data(as_text=True)
    assert creators(session, shop_a) == 2


def test_page_refuses_a_file_that_is_not_utf8(
    client: FlaskClient, shop_a: ShopKey, session: Session
) -> None:
    session.commit()
    token = csrf(sign_in(client, shop_a))
    response = client.post(
        "/admin/creators/import",
        data={
            "csrf_token": token,
            "file": (io.BytesIO("handle\nmöa\n".encode("latin-1")), "x.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "must be UTF-8 text" in response.get_data(as_text=True)
