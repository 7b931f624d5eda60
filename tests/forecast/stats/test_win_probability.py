"""P(won | reached stage): a worked example, and laws over random histories."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import ValidationError
from sfakit.forecast.stats import (
    BetaPrior,
    StageWinProbability,
    WinProbabilities,
    learn_win_probabilities,
)
from sfakit.pipeline import Window

from .support import CLOSED, DAY, LOST, OPEN, T0, WON, closed_paths, deals_of, paths

EXAMPLE = [
    ["prospect", "qualify", "propose", WON],
    ["prospect", "qualify", LOST],
    ["qualify", "propose", "negotiate", LOST],
    ["prospect", "propose"],  # still open: not counted
]


def test_worked_example_counts_closed_deals_that_reached_each_stage() -> None:
    learned = learn_win_probabilities(deals_of(EXAMPLE))
    assert (learned.closed_deals, learned.won_deals) == (3, 1)
    rows = {r.stage: (r.reached, r.won, r.probability) for r in learned.stages}
    assert rows == {
        "prospect": (2, 1, Decimal("0.5")),
        "qualify": (3, 1, Decimal(1) / Decimal(3)),
        "propose": (2, 1, Decimal("0.5")),
        "negotiate": (1, 0, Decimal(0)),
    }


def test_laplace_prior_adds_one_win_and_one_loss() -> None:
    learned = learn_win_probabilities(deals_of(EXAMPLE), prior=BetaPrior.laplace())
    assert learned.prior == BetaPrior(alpha=1, beta=1)
    assert [r.probability for r in learned.stages] == [
        Decimal("0.5"),
        Decimal("0.4"),
        Decimal("0.5"),
        Decimal(1) / Decimal(3),
    ]
    assert learned.row("negotiate").won == 0  # the counts stay the observed ones


def test_a_stage_no_closed_deal_reached_has_no_estimate_and_says_why() -> None:
    learned = learn_win_probabilities(deals_of([["propose", WON]]), prior=BetaPrior.laplace())
    row = learned.row("prospect")
    assert (row.reached, row.probability) == (0, None)
    assert row.reason == "no closed deal reached stage 'prospect'"
    assert learned.probability("propose") == Decimal(2) / Decimal(3)


def test_judged_by_current_state_a_reopened_and_won_deal_counts_as_won() -> None:
    learned = learn_win_probabilities(deals_of([["negotiate", LOST, "negotiate", WON]]))
    assert learned.row("negotiate").reached == 1
    assert learned.probability("negotiate") == 1


def test_window_keeps_only_deals_closed_inside_it() -> None:
    deals = deals_of([["propose", WON], ["propose", "negotiate", "qualify", "propose", LOST]])
    window = Window(T0, T0 + 2 * DAY)  # the first closes on day 1, the second on day 4
    learned = learn_win_probabilities(deals, window=window)
    assert (learned.closed_deals, learned.probability("propose")) == (1, 1)
    assert learned.window == window
    assert learned.row("qualify").reason == "no closed deal in the window reached stage 'qualify'"


def test_unknown_stage_is_a_validation_error_naming_the_stages() -> None:
    learned = learn_win_probabilities(deals_of(EXAMPLE))
    with pytest.raises(ValidationError) as caught:
        learned.row("closed_won")
    assert caught.value.path == "$.stage"
    assert "prospect, qualify, propose, negotiate" in caught.value.expected


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"stage": "a", "reached": 1, "won": 2, "probability": "1"}, "$.won"),
        ({"stage": "a", "reached": 0, "won": 0, "probability": "0"}, "$.probability"),
        ({"stage": "a", "reached": 2, "won": 0, "probability": None}, "$.reason"),
        ({"stage": "a", "reached": 2, "won": 1, "probability": 0.5}, "$.probability"),
        ({"stage": "a", "reached": 2, "won": 1, "probability": "1.5"}, "$.probability"),
    ],
)
def test_rows_refuse_inconsistent_numbers(fields: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        StageWinProbability(**fields)  # type: ignore[arg-type]
    assert path in caught.value.paths


@pytest.mark.parametrize("alpha", [0, -1, 0.5, "x"])
def test_prior_needs_positive_decimal_pseudo_counts(alpha: object) -> None:
    with pytest.raises(ValidationError) as caught:
        BetaPrior(alpha=alpha, beta=1)  # type: ignore[arg-type]
    assert caught.value.path == "$.alpha"


def _brute_force(all_paths: list[list[str]]) -> dict[str, tuple[int, int]]:
    result = {}
    for stage in OPEN:
        reached = [p for p in all_paths if p[-1] in CLOSED and stage in p]
        result[stage] = (len(reached), sum(p[-1] == WON for p in reached))
    return result


@settings(max_examples=60)
@given(st.lists(paths(), max_size=12), st.none() | st.just(BetaPrior(alpha="0.5", beta=2)))
def test_counts_match_a_direct_count_and_estimates_lie_in_0_1(
    all_paths: list[list[str]], prior: BetaPrior | None
) -> None:
    learned = learn_win_probabilities(deals_of(all_paths), prior=prior)
    expected = _brute_force(all_paths)
    assert {r.stage: (r.reached, r.won) for r in learned.stages} == expected
    assert learned.closed_deals == sum(p[-1] in CLOSED for p in all_paths)
    for row in learned.stages:
        assert row.won <= row.reached <= learned.closed_deals
        if row.reached:
            assert row.probability is not None
            assert 0 <= row.probability <= 1
            assert row.reason is None
        else:
            assert row.probability is None
            assert row.reason


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(0, len(OPEN) - 1), st.booleans()), max_size=15))
def test_strict_process_win_probability_never_falls_along_the_path(
    ends: list[tuple[int, bool]],
) -> None:
    # Every deal starts in the first stage and goes one stage at a time; a deal is won
    # only from the last open stage. Then every won deal reached every stage (won[s] is
    # the same for all s) while fewer deals reach later stages: won / reached rises.
    all_paths = []
    for last, win in ends:
        path = list(OPEN[: last + 1])
        path.append(WON if win and last == len(OPEN) - 1 else LOST)
        all_paths.append(path)
    learned = learn_win_probabilities(deals_of(all_paths))
    known = [r.probability for r in learned.stages if r.probability is not None]
    assert known == sorted(known)


@settings(max_examples=60)
@given(st.lists(closed_paths, max_size=10), closed_paths, st.booleans())
def test_one_more_win_never_lowers_and_one_more_loss_never_raises_an_estimate(
    all_paths: list[list[str]], extra: list[str], win: bool
) -> None:
    extra = [*extra[:-1], WON if win else LOST]
    before = learn_win_probabilities(deals_of(all_paths))
    after = learn_win_probabilities(deals_of([*all_paths, extra]))
    for old, new in zip(before.stages, after.stages, strict=True):
        if old.probability is None or new.probability is None:
            continue
        if win:
            assert new.probability >= old.probability
        else:
            assert new.probability <= old.probability


@settings(max_examples=60)
@given(
    st.integers(1, 50).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))),
    st.integers(1, 20),
    st.integers(1, 20),
)
def test_the_prior_pulls_the_estimate_toward_its_mean_and_no_further(
    counts: tuple[int, int], alpha: int, beta: int
) -> None:
    reached, won = counts
    prior = BetaPrior(alpha=alpha, beta=beta)
    raw, mean = Fraction(won, reached), Fraction(alpha, alpha + beta)
    estimate = prior.estimate(won, reached)
    assert min(raw, mean) <= estimate <= max(raw, mean)


@settings(max_examples=30)
@given(st.lists(paths(), max_size=8), st.none() | st.just(BetaPrior.laplace()))
def test_round_trips_through_the_codec(all_paths: list[list[str]], prior: BetaPrior | None) -> None:
    learned = learn_win_probabilities(
        deals_of(all_paths), prior=prior, window=Window(T0, T0 + 30 * DAY)
    )
    assert from_data(WinProbabilities, to_data(learned)) == learned
