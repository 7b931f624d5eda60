"""The absorbing chain: a chain solved by hand, the laws of the solution over random
chains, stages without estimates, and learning the counts from histories."""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import ValidationError
from sfakit.forecast.stats import (
    AbsorbingChain,
    ClosingProbability,
    StageOutlook,
    Transition,
    learn_chain,
)
from sfakit.pipeline import Window

from .support import CLOSED, DAY, LOST, OPEN, T0, WON, deals_of, paths


def chain(
    moves: dict[tuple[str, str], int], transient: tuple[str, ...] = ("a", "b")
) -> AbsorbingChain:
    return AbsorbingChain(
        pipeline="p",
        transient=transient,
        absorbing=("won", "lost"),
        won_stage="won",
        transitions=[Transition(from_stage=f, to_stage=t, moves=n) for (f, t), n in moves.items()],
    )


# a -> b 3/4, a -> lost 1/4; b -> won 1/4, b -> a 1/4, b -> lost 1/2.
HAND = chain({("a", "b"): 3, ("a", "lost"): 1, ("b", "won"): 1, ("b", "a"): 1, ("b", "lost"): 2})


def test_hand_solved_chain() -> None:
    # I - Q = [[1, -3/4], [-1/4, 1]], det = 13/16, so N = 16/13 [[1, 3/4], [1/4, 1]].
    # Won from b: x_b = 1/4 + x_a/4 and x_a = 3/4 x_b give x_b = 4/13, x_a = 3/13.
    f = Fraction
    assert HAND.solvable == ("a", "b")
    assert HAND.fundamental_matrix() == ((f(16, 13), f(12, 13)), (f(4, 13), f(16, 13)))
    assert HAND.absorption_matrix() == ((f(3, 13), f(10, 13)), (f(4, 13), f(9, 13)))
    assert HAND.expected_moves() == (f(28, 13), f(20, 13))
    assert HAND.transition_probability("b", "a") == f(1, 4)
    assert HAND.transition_probability("a", "won") == 0


def test_hand_solved_outlook_in_decimals() -> None:
    outlook = HAND.outlook("a")
    assert outlook == StageOutlook(
        stage="a",
        moves_out=4,
        win_probability=Decimal(3) / Decimal(13),
        closing=(
            ClosingProbability(stage="won", probability=Decimal(3) / Decimal(13)),
            ClosingProbability(stage="lost", probability=Decimal(10) / Decimal(13)),
        ),
        expected_moves=Decimal(28) / Decimal(13),
    )
    assert HAND.win_probability("b") == Decimal(4) / Decimal(13)
    assert [o.stage for o in HAND.outlooks] == ["a", "b"]


def test_a_closed_stage_is_its_own_end() -> None:
    won, lost = HAND.outlook("won"), HAND.outlook("lost")
    assert (won.win_probability, won.expected_moves) == (1, 0)
    assert (lost.win_probability, [c.probability for c in lost.closing]) == (0, [0, 1])


def test_a_stage_with_no_observed_move_out_has_no_estimate_nor_do_stages_leading_to_it() -> None:
    c = chain({("a", "b"): 2, ("a", "won"): 1, ("c", "won"): 5}, transient=("a", "b", "c"))
    assert c.outlook("b").reason == "no observed move out of stage 'b'"
    assert c.outlook("a").reason == "deals move from it to stage 'b', which has no estimate"
    assert c.outlook("a").win_probability is None
    assert c.outlook("a").closing == ()
    assert c.outlook("a").moves_out == 3
    assert c.solvable == ("c",)
    assert c.win_probability("c") == 1
    assert c.transition_probability("b", "won") is None


def test_stages_whose_moves_never_lead_to_a_close_have_no_estimate() -> None:
    c = chain({("a", "b"): 2, ("b", "a"): 1})
    assert c.solvable == ()
    assert c.outlook("a").reason == "its observed moves never lead to a closed stage"
    assert c.fundamental_matrix() == ()


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"won_stage": "a"}, "$.won_stage"),
        ({"absorbing": ("won", "a")}, "$.absorbing[1]"),
        ({"transient": ()}, "$.transient"),
        (
            {"transitions": [Transition(from_stage="won", to_stage="a", moves=1)]},
            "$.transitions[0].from_stage",
        ),
        (
            {"transitions": [Transition(from_stage="a", to_stage="x", moves=1)]},
            "$.transitions[0].to_stage",
        ),
        (
            {"transitions": [Transition(from_stage="a", to_stage="won", moves=1)] * 2},
            "$.transitions[1]",
        ),
    ],
)
def test_refuses_inconsistent_chains_naming_the_field(fields: dict[str, object], path: str) -> None:
    base: dict[str, object] = {
        "pipeline": "p",
        "transient": ("a", "b"),
        "absorbing": ("won", "lost"),
        "won_stage": "won",
        "transitions": (),
    }
    with pytest.raises(ValidationError) as caught:
        AbsorbingChain(**(base | fields))  # type: ignore[arg-type]
    assert path in caught.value.paths


def test_transition_moves_must_be_positive() -> None:
    with pytest.raises(ValidationError) as caught:
        Transition(from_stage="a", to_stage="b", moves=0)
    assert caught.value.path == "$.moves"


def test_unknown_stage_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        HAND.outlook("c")
    assert (caught.value.path, caught.value.value) == ("$.stage", "c")


STATES = ("a", "b", "c", "d")
ENDS = ("won", "lost", "lost2")


@st.composite
def chains(draw: st.DrawFn) -> AbsorbingChain:
    n = draw(st.integers(1, len(STATES)))
    transient = STATES[:n]
    targets = [(f, t) for f in transient for t in transient + ENDS]
    counts = draw(st.dictionaries(st.sampled_from(targets), st.integers(1, 9), max_size=12))
    return AbsorbingChain(
        pipeline="p",
        transient=transient,
        absorbing=ENDS,
        won_stage="won",
        transitions=[Transition(from_stage=f, to_stage=t, moves=k) for (f, t), k in counts.items()],
    )


@settings(max_examples=150)
@given(chains())
def test_rows_of_b_sum_to_one_and_b_solves_the_first_step_equations(c: AbsorbingChain) -> None:
    solvable = c.solvable
    b, t = c.absorption_matrix(), c.expected_moves()
    for i, stage in enumerate(solvable):
        assert sum(b[i]) == 1
        assert all(0 <= x <= 1 for x in b[i])
        for k, end in enumerate(c.absorbing):
            # B = R + Q B: one move, then where the next stage ends up.
            step = c.transition_probability(stage, end)
            assert step is not None
            rest = sum(
                (c.transition_probability(stage, s) or 0) * b[j][k] for j, s in enumerate(solvable)
            )
            assert b[i][k] == step + rest
        # t = 1 + Q t.
        assert t[i] == 1 + sum(
            (c.transition_probability(stage, s) or 0) * t[j] for j, s in enumerate(solvable)
        )


@settings(max_examples=150)
@given(chains())
def test_every_stage_has_an_estimate_or_a_reason_and_solvable_ones_lead_only_to_solvable_ones(
    c: AbsorbingChain,
) -> None:
    solvable = set(c.solvable)
    for outlook in c.outlooks:
        if outlook.stage in solvable:
            assert outlook.reason is None
            assert outlook.win_probability is not None
            assert outlook.expected_moves is not None
            assert outlook.expected_moves >= 1
            for other in c.transient:
                if c.transition_probability(outlook.stage, other):
                    assert other in solvable
        else:
            assert outlook.reason
            assert outlook.win_probability is None
        assert from_data(StageOutlook, to_data(outlook)) == outlook
    assert from_data(AbsorbingChain, to_data(c)) == c


def test_learns_counts_from_histories() -> None:
    deals = deals_of(
        [
            ["prospect", "qualify", "propose", WON],
            ["prospect", "qualify", LOST],
            ["qualify", "propose", "qualify", "propose", "negotiate", LOST, "negotiate", WON],
            ["negotiate"],
        ]
    )
    learned = learn_chain(deals)
    assert [(t.from_stage, t.to_stage, t.moves) for t in learned.transitions] == [
        ("prospect", "qualify", 2),
        ("qualify", "propose", 3),
        ("qualify", "closed_lost", 1),
        ("propose", "qualify", 1),
        ("propose", "negotiate", 1),
        ("propose", "closed_won", 1),
        ("negotiate", "closed_won", 1),
        ("negotiate", "closed_lost", 1),
    ]
    assert (learned.reopenings, learned.deals) == (1, 4)
    assert learned.transient == OPEN
    assert learned.absorbing == CLOSED
    # negotiate: 1/2; propose: 1/3 won + 1/3 negotiate + 1/3 back to qualify.
    # qualify: 3/4 to propose. x_p = 1/3 + 1/6 + x_q / 3 and x_q = 3/4 x_p give x_p = 2/3.
    assert learned.win_probability("negotiate") == Decimal("0.5")
    assert learned.win_probability("propose") == Decimal(2) / Decimal(3)
    assert learned.win_probability("qualify") == Decimal("0.5")
    assert learned.win_probability("prospect") == Decimal("0.5")


def test_window_keeps_only_moves_made_inside_it() -> None:
    deals = deals_of([["propose", "negotiate", WON]])
    learned = learn_chain(deals, window=Window(T0 + 2 * DAY, None))
    assert [(t.from_stage, t.to_stage) for t in learned.transitions] == [("negotiate", WON)]
    assert learned.outlook("propose").reason == "no observed move out of stage 'propose'"


@settings(max_examples=60)
@given(st.lists(paths(), max_size=10))
def test_learned_counts_match_a_direct_count(all_paths: list[list[str]]) -> None:
    learned = learn_chain(deals_of(all_paths))
    moves = Counter(pair for p in all_paths for pair in itertools.pairwise(p))
    expected = {pair: n for pair, n in moves.items() if pair[0] in OPEN}
    assert {(t.from_stage, t.to_stage): t.moves for t in learned.transitions} == expected
    assert learned.reopenings == sum(n for pair, n in moves.items() if pair[0] in CLOSED)
    assert from_data(AbsorbingChain, to_data(learned)) == learned
    for outlook in learned.outlooks:
        if outlook.win_probability is not None:
            assert sum(c.probability for c in outlook.closing) == pytest.approx(1, abs=1e-25)


def test_one_stage_chain_is_the_plain_win_rate_of_its_moves() -> None:
    learned = learn_chain(deals_of([["negotiate", WON]] * 3 + [["negotiate", LOST]]))
    assert learned.win_probability("negotiate") == Decimal("0.75")
    assert learned.outlook("negotiate").expected_moves == 1
