"""The example app through Flask's test client, on a SQLite file with a manual clock.

The seed is a small book of business: a territory tree (DACH with two reps, France with
one, everything else to the EMEA inbox), a lead scorecard, an account with its decision
maker, one open deal, deals closing in FY2027-Q1 and a standing order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sfakit_webapp import close_app, create_app, dispatch_notifications, forecast_data, sfa_of

from sfakit import ManualClock, Money, Sfa, ValidationError
from sfakit.codec import to_data
from sfakit.model import (
    Account,
    Contact,
    ContactRole,
    Lead,
    Opportunity,
    OrderLine,
    Product,
    RecurrenceSpec,
    SalesRep,
    StandingOrder,
)
from sfakit.notifiers.memory import MemoryNotifier
from sfakit.qualification import Scorecard, ScoreGroup, ScoreRule
from sfakit.rules import field
from sfakit.territory import Member, TerritoryNode, TerritoryTree

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

TREE = TerritoryTree(
    nodes=[
        TerritoryNode(key="emea", name="EMEA", fallback_queue="emea-inbox"),
        TerritoryNode(
            key="dach",
            parent="emea",
            territory_id="terr_dach",
            rules=field("country").isin(["DE", "AT", "CH"]),
            members=[Member("rep_anna"), Member("rep_ben")],
        ),
        TerritoryNode(
            key="france",
            parent="emea",
            territory_id="terr_france",
            rules=field("country").eq("FR"),
            members=[Member("rep_chloe")],
        ),
    ]
)

SCORECARD = Scorecard(
    name="inbound",
    qualify_at=50,
    groups=[
        ScoreGroup(
            name="fit",
            rules=[
                ScoreRule(name="dach", points=20, criteria=field("country").isin(["DE", "AT"])),
                ScoreRule(name="large", points=35, criteria=field("company_size").ge(250)),
            ],
        )
    ],
)

#: Fields of a good web form, with the headers a form builder would use.
FORM = {
    "Last Name": "Huber",
    "Company": "Gasthof Huber",
    "E-mail": "sepp@gasthof-huber.at",
    "Country": "Austria",
    "Employees": "300",
}


class Book(NamedTuple):
    deal: str  # open, in prospect, with a next step and an amount
    standing_order: str


def eur(amount: int | str) -> Money:
    return Money.of(amount, "EUR")


def seed(sfa: Sfa) -> Book:
    for rep_id, name in (("rep_anna", "Anna"), ("rep_ben", "Ben"), ("rep_chloe", "Chloé")):
        sfa.create(SalesRep, id=rep_id, name=name, email=f"{rep_id}@example.com")
    sfa.set_territory_tree(TREE, expected_version=None)
    sfa.set_lead_scorecard(SCORECARD, expected_version=None)
    acme = sfa.create(Account, name="Acme Lighting")
    sfa.create(Contact, last_name="Adler", account_id=acme.id, roles=[ContactRole.DECISION_MAKER])
    deal = sfa.open_opportunity(
        name="Bulbs", account_id=acme.id, by="rep_anna", amount=eur(4800), next_step="send quote"
    )
    for stage, amount, territory in (
        ("closed_won", 1000, "terr_dach"),
        ("negotiate", 500, "terr_dach"),
        ("propose", 300, "terr_france"),
    ):
        sfa.create(
            Opportunity,
            name=f"{stage} deal",
            account_id=acme.id,
            pipeline="standard",
            stage=stage,
            amount=eur(amount),
            close_date=date(2027, 2, 15),
            territory_id=territory,
            owner_id="rep_anna",
        )
    bulb = sfa.create(Product, sku="LED-9W", name="LED bulb", unit_price=Money.of("1.20", "EUR"))
    standing = sfa.create_standing_order(
        account_id=acme.id,
        currency="EUR",
        lines=[OrderLine(product_id=bulb.id, quantity=1000, unit_price=bulb.unit_price)],
        schedule=RecurrenceSpec(
            rule="FREQ=MONTHLY", start=T0 + timedelta(days=30), timezone="Europe/Berlin"
        ),
    )
    return Book(deal.id, standing.id)


def seeded_app(folder: Path, clock: ManualClock, inbox: MemoryNotifier) -> tuple[Flask, Book]:
    app = create_app(f"sqlite:///{folder}/crm.db", clock=clock, plugins=[inbox])
    app.testing = True  # a bug in a view raises in the test instead of becoming a 500
    book = seed(sfa_of(app))
    dispatch_notifications(app)  # the seed's own events: out of the way of the tests
    inbox.events.clear()
    return app, book


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def inbox() -> MemoryNotifier:
    return MemoryNotifier()


@pytest.fixture
def setup(
    tmp_path: Path, clock: ManualClock, inbox: MemoryNotifier
) -> Iterator[tuple[Flask, Book]]:
    app, book = seeded_app(tmp_path, clock, inbox)
    yield app, book
    close_app(app)


@pytest.fixture
def app(setup: tuple[Flask, Book]) -> Flask:
    return setup[0]


@pytest.fixture
def book(setup: tuple[Flask, Book]) -> Book:
    return setup[1]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def move(client: FlaskClient, deal_id: str, stage: str, version: int, **more: Any) -> Any:
    body = {"stage": stage, "expected_version": version, **more}
    return client.post(f"/opportunities/{deal_id}/move", json=body)


# -- leads -------------------------------------------------------------------------------


def test_capture_routes_scores_and_explains(client: FlaskClient) -> None:
    answer = client.post("/leads", json=FORM)
    assert answer.status_code == 201
    body = answer.get_json()
    lead = body["lead"]
    assert (lead["email"], lead["country"], lead["company_size"]) == (
        "sepp@gasthof-huber.at",
        "AT",
        300,
    )
    assert lead["source"] == "website"
    assert body["routing"]["owner"] == lead["owner_id"] == "rep_anna"
    assert (body["routing"]["territory"], body["routing"]["queue"]) == ("dach", None)
    assert body["routing"]["explanation"][-1].startswith("round_robin: rep_anna is next")
    assert (body["score"]["score"], body["score"]["verdict"]) == ("55.00", "qualified")
    assert (lead["status"], lead["score"]) == ("qualified", "55.00")
    assert answer.headers["Location"] == f"/leads/{lead['id']}"
    # The answer holds the stored lead, newest version included.
    assert client.get(f"/leads/{lead['id']}").get_json() == lead


def test_a_lead_no_territory_takes_goes_to_the_inbox(client: FlaskClient) -> None:
    body = client.post("/leads", json={"last_name": "Smith", "country": "US"}).get_json()
    assert body["routing"]["owner"] is None
    assert body["routing"]["queue"] == body["lead"]["queue"] == "emea-inbox"


def test_without_tree_and_scorecard_a_lead_is_only_captured(
    tmp_path: Path, clock: ManualClock
) -> None:
    app = create_app(f"sqlite:///{tmp_path}/bare.db", clock=clock)
    try:
        answer = app.test_client().post("/leads", json=FORM)
        assert answer.status_code == 201
        assert (answer.get_json()["routing"], answer.get_json()["score"]) == (None, None)
    finally:
        close_app(app)


def test_invalid_email_is_422_naming_the_field(app: Flask, client: FlaskClient) -> None:
    answer = client.post("/leads", json={**FORM, "E-mail": "sepp@", "Country": "Atlantis"})
    assert answer.status_code == 422
    body = answer.get_json()
    assert (body["path"], body["value"]) == ("$.email", "sepp@")
    assert body["expected"] == "an email address like name@example.com"
    assert [p["path"] for p in body["problems"]] == ["$.email", "$.country"]
    assert sfa_of(app).query(Lead).items == ()  # nothing stored


def test_a_retried_submission_with_its_idempotency_key_stores_one_lead(
    app: Flask, client: FlaskClient
) -> None:
    headers = {"Idempotency-Key": "form-7f3a"}
    first = client.post("/leads", json=FORM, headers=headers)
    again = client.post("/leads", json=FORM, headers=headers)
    assert first.status_code == again.status_code == 201
    # The same lead (routing it again changes nothing; scoring it again stores the score).
    assert first.get_json()["lead"]["id"] == again.get_json()["lead"]["id"]
    assert len(sfa_of(app).query(Lead).items) == 1


def test_unknown_ids_and_urls_are_404_in_json(client: FlaskClient) -> None:
    answer = client.get("/leads/lead_01KJPWD6M0RF6XBTMGBKDFX18R")
    assert answer.status_code == 404
    assert answer.get_json()["entity"] == "Lead"
    assert answer.get_json()["id"] == "lead_01KJPWD6M0RF6XBTMGBKDFX18R"
    assert client.get("/nowhere").status_code == 404
    assert "error" in client.get("/nowhere").get_json()
    wrong_method = client.get("/opportunities/opp_1/move")
    assert wrong_method.status_code == 405
    assert "POST" in wrong_method.headers["Allow"]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "path"),
    [
        ("{not json", "application/json", 400, None),
        ("[1, 2]", "application/json", 422, "$"),
        ("last_name=Huber", "application/x-www-form-urlencoded", 415, None),
        ('{"last_name": "Hu\\ud800ber"}', "application/json", 422, "$.last_name"),
        ('{"last_name": "Hu\\u0000ber"}', "application/json", 422, "$.last_name"),
    ],
)
def test_bodies_that_are_no_json_object_of_text_are_refused(
    client: FlaskClient, data: str, content_type: str, status: int, path: str | None
) -> None:
    answer = client.post("/leads", data=data, content_type=content_type)
    assert answer.status_code == status
    assert answer.get_json().get("path") == path


VALUES = (
    st.none()
    | st.sampled_from(["Huber", "AT", "x@y.de", "qualified", "300", "+43 1 5321234"])
    # any text, with the lone surrogates and NUL characters JSON can carry
    | st.text(st.characters() | st.sampled_from(["\ud800", "\x00"]))
)
#: Any object of text; and a good form with up to three fields changed to anything, so
#: that many examples get past validation into routing and scoring.
FORMS = st.dictionaries(st.text(max_size=12), VALUES, max_size=6) | st.dictionaries(
    st.sampled_from([*FORM, "status", "phone", "owner_id"]), VALUES, max_size=3
).map(lambda changes: {**FORM, **changes})


@pytest.fixture(scope="module")
def any_json_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    # One app for every example: Hypothesis runs them all inside one test call.
    app, _ = seeded_app(tmp_path_factory.mktemp("any-json"), ManualClock(T0), MemoryNotifier())
    yield app.test_client()
    close_app(app)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(form=FORMS)
def test_any_json_object_is_captured_or_refused_never_a_500(
    any_json_client: FlaskClient, form: dict[str, str | None]
) -> None:
    answer = any_json_client.post("/leads", json=form)
    assert answer.status_code in (201, 422), answer.get_data(as_text=True)
    body = answer.get_json()
    if answer.status_code == 422:
        assert body["path"].startswith("$")
    else:
        assert any_json_client.get(f"/leads/{body['lead']['id']}").status_code == 200


# -- optimistic concurrency --------------------------------------------------------------


def test_two_moves_with_the_versions_read_both_work(client: FlaskClient, book: Book) -> None:
    first = move(client, book.deal, "qualify", 1, by="rep_anna")
    assert first.status_code == 200
    deal = first.get_json()["opportunity"]
    assert (deal["stage"], deal["version"]) == ("qualify", 2)
    assert first.get_json()["change"]["from_stage"] == "prospect"
    second = move(client, book.deal, "propose", deal["version"], by="rep_anna")
    assert second.status_code == 200
    assert second.get_json()["opportunity"]["stage"] == "propose"


def test_a_stale_version_is_409_and_the_deal_is_unchanged(
    app: Flask, client: FlaskClient, book: Book
) -> None:
    assert move(client, book.deal, "qualify", 1).status_code == 200
    before = sfa_of(app).get(Opportunity, book.deal)
    answer = move(client, book.deal, "closed_lost", 1, reason="price")  # read before the move
    assert answer.status_code == 409
    body = answer.get_json()
    assert (body["expected_version"], body["current_version"]) == (1, 2)
    assert "reload it and apply the change again" in body["error"]
    assert sfa_of(app).get(Opportunity, book.deal) == before
    # Reload, then apply the change again with the version read now.
    reloaded = client.get(f"/opportunities/{book.deal}").get_json()
    assert reloaded == to_data(before)
    retried = move(client, book.deal, "closed_lost", reloaded["version"], reason="price")
    assert retried.status_code == 200


def test_a_move_the_stage_rules_refuse_is_400_with_what_is_missing(
    app: Flask, client: FlaskClient
) -> None:
    sfa = sfa_of(app)
    bare = sfa.open_opportunity(name="No amount", account_id="acct_x", by="rep_ben")
    answer = move(client, bare.id, "propose", bare.version)
    assert answer.status_code == 400
    assert [u["message"] for u in answer.get_json()["unmet"]] == [
        "Agree on a next step with the customer",  # skipping qualify passes its exit
        "Enter the expected amount",
    ]


def test_a_move_body_is_checked_field_by_field(client: FlaskClient, book: Book) -> None:
    answer = client.post(
        f"/opportunities/{book.deal}/move", json={"expected_version": True, "colour": "red"}
    )
    assert answer.status_code == 422
    assert [p["path"] for p in answer.get_json()["problems"]] == [
        "$.colour",
        "$.stage",
        "$.expected_version",
    ]


def test_skipping_a_standing_order_occurrence_needs_the_version_read(
    app: Flask, client: FlaskClient, book: Book
) -> None:
    url = f"/standing-orders/{book.standing_order}/skip"
    answer = client.post(url, json={"expected_version": 1})
    assert answer.status_code == 200
    assert answer.get_json()["skipped"] == "2026-04-01"
    assert answer.get_json()["standing_order"]["version"] == 2
    assert client.post(url, json={"expected_version": 1}).status_code == 409
    stored = sfa_of(app).get(StandingOrder, book.standing_order)
    assert stored.skipped_dates == (date(2026, 4, 1),)


# -- reports -----------------------------------------------------------------------------


def test_forecast_returns_what_the_service_computes(app: Flask, client: FlaskClient) -> None:
    answer = client.get("/forecast?period=FY2027-Q1&by=territory&currency=EUR")
    assert answer.status_code == 200
    body = answer.get_json()
    report = sfa_of(app).forecast("FY2027-Q1", by="territory", currency="EUR")
    assert body == json.loads(json.dumps(forecast_data(report, "territory")))
    total = body["totals"]["FY2027-Q1"]
    assert (total["closed"]["amount"], total["commit"]["amount"]) == ("1000.00", "500.00")
    assert [line["group"] for line in body["lines"]] == ["emea", "dach", "france"]


def test_forecast_questions_it_cannot_answer_are_422(client: FlaskClient) -> None:
    assert client.get("/forecast").get_json()["path"] == "$.period"
    no_currency = client.get("/forecast?period=FY2027-Q1")
    assert (no_currency.status_code, no_currency.get_json()["path"]) == (422, "$.currency")
    bad_grouping = client.get("/forecast?period=FY2027-Q1&by=colour&currency=EUR")
    assert (bad_grouping.status_code, bad_grouping.get_json()["path"]) == (422, "$.by")


def test_lost_deals_by_stage_inside_a_window(
    client: FlaskClient, book: Book, clock: ManualClock
) -> None:
    assert move(client, book.deal, "qualify", 1).status_code == 200
    clock.advance(timedelta(days=2))
    assert move(client, book.deal, "closed_lost", 2, reason="price").status_code == 200
    body = client.get("/pipeline/lost?start=2026-03-01T00:00:00Z").get_json()
    assert (body["lost"], body["worst_stage"]) == (1, "qualify")
    later = client.get("/pipeline/lost?start=2026-03-05T00:00:00%2B01:00").get_json()
    assert later["lost"] == 0


def test_a_moment_without_offset_is_refused(client: FlaskClient) -> None:
    answer = client.get("/pipeline/lost?start=2026-03-01T00:00:00")
    assert answer.status_code == 422
    assert answer.get_json()["path"] == "$.start"
    assert "UTC offset" in answer.get_json()["expected"]


# -- notifications and lifecycle ---------------------------------------------------------


def test_events_are_delivered_by_the_dispatcher_not_the_request(
    app: Flask, client: FlaskClient, inbox: MemoryNotifier
) -> None:
    lead_id = client.post("/leads", json=FORM).get_json()["lead"]["id"]
    assert inbox.events == []  # recorded in the outbox with the lead, not sent yet
    report = dispatch_notifications(app)
    assert report.delivered == 3
    assert [(e.type, e.lead_id) for e in inbox.events] == [  # type: ignore[attr-defined]
        ("lead.captured", lead_id),
        ("lead.assigned", lead_id),
        ("lead.qualified", lead_id),
    ]
    assert dispatch_notifications(app).idle  # delivered once


def test_the_dispatch_command_delivers_too(
    app: Flask, client: FlaskClient, inbox: MemoryNotifier
) -> None:
    client.post("/leads", json=FORM)
    done = app.test_cli_runner().invoke(args=["dispatch"])
    assert done.exit_code == 0, done.output
    assert "delivered 3" in done.output
    assert len(inbox.events) == 3


def test_close_app_closes_its_sfa_once(tmp_path: Path) -> None:
    app = create_app(f"sqlite:///{tmp_path}/closing.db")
    close_app(app)
    close_app(app)
    with pytest.raises(ValidationError, match="this one was closed"):
        sfa_of(app).query(Lead)


def test_the_lead_in_the_answer_round_trips_through_the_codec(
    app: Flask, client: FlaskClient
) -> None:
    lead = client.post("/leads", json=FORM).get_json()["lead"]
    assert to_data(sfa_of(app).get(Lead, lead["id"])) == lead
