"""``route``, ``forecast`` and ``analytics``: the answers of the service, as tables."""

from __future__ import annotations

import json

import pytest

import sfakit
from sfakit.model import Lead
from sfakit.territory import TerritoryNode, TerritoryTree

from .conftest import Cli
from .support import TREE, Book

# -- route -----------------------------------------------------------------------------


def test_route_assigns_records_and_says_why(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "route", book.lead_at)
    assert ran.code == 0, ran.err
    assert ran.out.splitlines() == [
        f"lead       {book.lead_at}",
        "territory  dach",
        "owner      rep_anna",
        "queue      -",
        "outcome    assigned",
        "why        round_robin: rep_anna is next from the first member (2 members)",
    ]
    with sfakit.open(book.url, load_entry_points=False) as sfa:
        lead = sfa.get(Lead, book.lead_at)
    assert (lead.owner_id, lead.territory_key) == ("rep_anna", "dach")
    # Routing is sticky: again, the owner keeps the lead.
    assert "outcome    kept" in cli("--db", book.url, "route", book.lead_at).out


def test_route_explain_prints_every_rule_checked(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "route", book.lead_us, "--explain")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[:5] == [
        f"lead       {book.lead_us}",
        "territory  emea",
        "owner      -",
        "queue      emea-inbox",
        "outcome    queued",
    ]
    assert lines[5] == "why:"
    explained = "\n".join(lines[6:])
    assert "  fallback queue of emea: emea-inbox" in explained
    assert "  rules:\n    [x] emea (no rules: always matches)\n    [ ] dach" in explained
    assert "country in ['DE', 'AT', 'CH'] (actual 'US')" in explained


def test_route_as_json(cli: Cli, book: Book) -> None:
    data = json.loads(cli("--db", book.url, "route", book.lead_at, "--json", "--explain").out)
    assert {k: data[k] for k in ("lead", "territory", "owner", "queue", "outcome")} == {
        "lead": book.lead_at,
        "territory": "dach",
        "owner": "rep_anna",
        "queue": None,
        "outcome": "assigned",
    }
    assert data["matched"] == ["emea", "dach"]
    assert "members:" in data["explanation"]


def test_route_without_a_territory_tree_says_how_to_store_one(cli: Cli, url: str) -> None:
    with sfakit.open(url, load_entry_points=False) as sfa:
        lead = sfa.create(Lead, last_name="Huber", country="AT")
    ran = cli("--db", url, "route", lead.id)
    assert ran.code == 1
    assert ran.err.startswith(
        "sfakit: error: no territory tree is stored (setting 'territory-tree'): store one "
        "with Sfa.set_territory_tree(tree)"
    )


# -- forecast --------------------------------------------------------------------------


def test_forecast_rolls_up_the_territory_tree(cli: Cli, forecast_book: str) -> None:
    ran = cli("--db", forecast_book, "forecast", "--period", "FY2027-Q1", "--currency", "EUR")
    assert ran.code == 0, ran.err
    assert ran.out.splitlines() == [
        "FY2027-Q1 (2027-01-01 to 2027-03-31), EUR, by territory",
        "territory      closed    commit  best case  pipeline  weighted  deals",
        "-----------  --------  --------  ---------  --------  --------  -----",
        "emea (EMEA)  1,000.00  1,500.00   1,800.00  1,000.00    570.00      4",
        "  dach       1,000.00  1,500.00   1,800.00    800.00    550.00      3",
        "  france         0.00      0.00       0.00    200.00     20.00      1",
        "(none)           0.00      0.00       0.00    100.00     20.00      1",
        "total        1,000.00  1,500.00   1,800.00  1,100.00    590.00      5",
        "left out: 1 lost",
    ]


def test_forecast_rows_follow_the_tree_whatever_the_order_nodes_were_defined_in(
    cli: Cli, forecast_book: str
) -> None:
    germany = TerritoryNode(key="germany", parent="dach", territory_id="terr_de")
    with sfakit.open(forecast_book, load_entry_points=False) as sfa:
        sfa.set_territory_tree(TerritoryTree(nodes=[*TREE.nodes, germany]), expected_version=1)
    ran = cli("--db", forecast_book, "forecast", "--period", "FY2027-Q1", "--currency", "EUR")
    assert ran.code == 0, ran.err
    names = [line[:11].rstrip() for line in ran.out.splitlines()[3:-2]]
    assert names == ["emea (EMEA)", "  dach", "    germany", "  france", "(none)"]


def test_forecast_of_several_periods_by_owner(cli: Cli, forecast_book: str) -> None:
    ran = cli(
        "--db",
        forecast_book,
        "forecast",
        "--period",
        "FY2027-Q2",
        "--period",
        "FY2027-Q1",
        "--by",
        "owner",
        "--currency",
        "EUR",
    )
    assert ran.code == 0, ran.err
    sections = ran.out.split("\n\n")
    assert sections[0].startswith("FY2027-Q1 ")  # periods come in calendar order
    assert "rep_anna  1,000.00  1,500.00" in sections[0]
    assert sections[1].startswith("FY2027-Q2 ")
    assert "total       0.00    0.00" in sections[1]


def test_forecast_as_json(cli: Cli, forecast_book: str) -> None:
    ran = cli("--db", forecast_book, "forecast", "--period", "FY2027-Q1", "--currency", "EUR")
    data = json.loads(
        cli(
            "--db",
            forecast_book,
            "forecast",
            "--period",
            "FY2027-Q1",
            "--currency",
            "EUR",
            "--json",
        ).out
    )
    assert ran.code == 0
    assert data["currency"] == "EUR"
    assert [line["group"] for line in data["lines"]] == ["emea", "dach", "france", None]
    total = data["totals"]["FY2027-Q1"]
    assert (total["closed"]["amount"], total["weighted"]["amount"]) == ("1000.00", "590.00")
    assert data["exclusions"] == [{"reason": "lost", "deal_ids": [], "count": 1}]


def test_forecast_without_currency_or_rates_is_an_error(cli: Cli, forecast_book: str) -> None:
    ran = cli("--db", forecast_book, "forecast", "--period", "FY2027-Q1")
    assert ran.code == 1
    assert ran.err.startswith("sfakit: error: $.currency: got None; expected a currency code")


def test_a_bad_period_name_is_an_error(cli: Cli, forecast_book: str) -> None:
    ran = cli("--db", forecast_book, "forecast", "--period", "2027Q1", "--currency", "EUR")
    assert ran.code == 1
    assert ran.err.startswith("sfakit: error: ")
    assert "2027Q1" in ran.err


# -- analytics -------------------------------------------------------------------------


def test_analytics_funnel(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "analytics", "funnel")
    assert ran.code == 0, ran.err
    assert ran.out.splitlines() == [
        "pipeline standard",
        "5 deals entered the funnel, 3 of them lost",
        "stage       reached  of deals",
        "----------  -------  --------",
        "prospect          5    100.0%",
        "qualify           4     80.0%",
        "propose           2     40.0%",
        "negotiate         1     20.0%",
        "closed_won        1     20.0%",
    ]


def test_analytics_lost_names_the_worst_stage_and_the_reasons(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "analytics", "lost")
    assert ran.code == 0, ran.err
    assert ran.out.splitlines() == [
        "pipeline standard",
        "3 deals lost; most after prospect (1)",
        "lost after  deals  amount            reasons",
        "----------  -----  ----------------  ------------",
        "prospect        1  1 without amount  price 1",
        "qualify         1  1,000.00 EUR      price 1",
        "propose         1  1,000.00 EUR      competitor 1",
        "negotiate       0  -                 -",
    ]


def test_analytics_by_a_field_gives_a_section_per_value(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "analytics", "lost", "--by", "owner_id")
    assert ran.code == 0, ran.err
    sections = ran.out.split("\n\n")
    assert sections[0].splitlines()[1:3] == [
        "owner_id = rep_anna",
        "2 deals lost; most after qualify (1)",
    ]
    assert sections[1].splitlines()[:2] == [
        "owner_id = rep_ben",
        "1 deal lost; most after prospect (1)",
    ]


def test_analytics_cycle_by_owner(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "analytics", "cycle", "--by", "owner_id", "--outcome", "closed")
    assert ran.code == 0, ran.err
    assert ran.out.splitlines() == [
        "pipeline standard",
        "cycle time of closed deals, in days",
        "owner_id  count  mean  median   p90  shortest  longest",
        "--------  -----  ----  ------  ----  --------  -------",
        "rep_anna      2   7.5     7.5   8.7       6.0      9.0",
        "rep_ben       2   7.5     7.5  11.1       3.0     12.0",
    ]
    won = cli("--db", book.url, "analytics", "cycle").out.splitlines()
    assert won[1] == "cycle time of won deals, in days"
    assert won[2:] == [
        "count  mean  median   p90  shortest  longest",
        "-----  ----  ------  ----  --------  -------",
        "    1  12.0    12.0  12.0      12.0     12.0",
    ]


def test_analytics_inside_a_window(cli: Cli, book: Book) -> None:
    # The first deal was lost on 8 March 2026, the others later.
    ran = cli(
        "--db", book.url, "analytics", "lost", "--since", "2026-03-05", "--until", "2026-03-10"
    )
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == (
        "pipeline standard, from 2026-03-05T00:00:00+00:00 until 2026-03-10T00:00:00+00:00"
    )
    assert lines[1] == "1 deal lost; most after qualify (1)"


@pytest.mark.parametrize(
    ("metric", "key", "value"),
    [("funnel", "deals", 5), ("lost", "lost", 3), ("cycle", "count", 1)],
)
def test_analytics_as_json(cli: Cli, book: Book, metric: str, key: str, value: int) -> None:
    data = json.loads(cli("--db", book.url, "analytics", metric, "--json").out)
    assert (data["metric"], data["pipeline"], data["by"]) == (metric, "standard", None)
    assert data["result"][key] == value
    grouped = json.loads(
        cli("--db", book.url, "analytics", metric, "--by", "owner_id", "--json").out
    )
    assert [g["group"] for g in grouped["groups"]] == ["rep_anna", "rep_ben"]


def test_analytics_of_an_unknown_field_or_pipeline_is_an_error(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "analytics", "funnel", "--by", "no_such_field")
    assert ran.code == 1
    assert ran.err.startswith("sfakit: error: ")
    assert "no_such_field" in ran.err
    missing = cli("--db", book.url, "analytics", "funnel", "--pipeline", "enterprise")
    assert missing.code == 1
    assert "enterprise" in missing.err
