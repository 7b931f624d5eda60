"""The plugin system: discovery, explicit registration, errors that name the culprit."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import sfakit
from sfakit import PluginError, hookimpl, hookspecs
from sfakit.backends.memory import MemoryStorage
from sfakit.plugins import (
    DEFAULT_PLUGINS,
    call_each,
    call_hook,
    plugin_manager,
    storage_schemes,
)


def test_built_in_backends_are_registered_as_plugins() -> None:
    pm = plugin_manager(load_entry_points=False)
    names = {name for name, _ in pm.list_name_plugin()}
    assert set(DEFAULT_PLUGINS) <= names
    assert set(storage_schemes(pm)) == {"memory", "sqlite", "postgres", "postgresql"}


def test_each_sfa_has_its_own_plugin_manager() -> None:
    with (
        sfakit.open("memory://", load_entry_points=False) as a,
        sfakit.open("memory://", load_entry_points=False) as b,
    ):
        assert a.plugins is not b.plugins


class ToyScheme:
    """A third-party plugin offering a new scheme, passed explicitly."""

    @hookimpl
    def sfakit_storage_schemes(self) -> list[str]:
        return ["toy"]

    @hookimpl
    def sfakit_open_storage(self, url: str) -> Any:
        return MemoryStorage(url) if url.startswith("toy://") else None


def test_an_explicit_plugin_can_offer_a_storage_scheme() -> None:
    with sfakit.open("toy://x", plugins=[ToyScheme()], load_entry_points=False) as sfa:
        assert isinstance(sfa.storage, MemoryStorage)
        assert sfa.storage.url == "toy://x"


def test_an_unknown_scheme_lists_the_schemes_plugins_offer() -> None:
    with pytest.raises(PluginError) as info:
        sfakit.open("mongodb://db", plugins=[ToyScheme()], load_entry_points=False)
    message = str(info.value)
    assert "'mongodb'" in message
    for scheme in ("memory://", "sqlite://", "postgresql://", "toy://"):
        assert scheme in message


class Crashing:
    @hookimpl
    def sfakit_open_storage(self, url: str) -> Any:
        raise RuntimeError("disk on fire")


def test_a_plugin_that_raises_is_reported_with_its_name_and_hook() -> None:
    with pytest.raises(PluginError) as info:
        sfakit.open("memory://", plugins=[Crashing()], load_entry_points=False)
    assert info.value.hook == "sfakit_open_storage"
    assert info.value.plugin is not None
    assert "disk on fire" in str(info.value)
    assert "sfakit_open_storage" in str(info.value)


class Misspelt:
    @hookimpl
    def sfakit_open_storag(self, url: str) -> Any:  # the typo is the point
        return None


def test_a_misspelt_hook_fails_loudly_at_registration() -> None:
    with pytest.raises(PluginError) as info:
        plugin_manager([Misspelt()], load_entry_points=False)
    assert "sfakit_open_storag" in str(info.value)


def test_every_hook_has_a_docstring_and_the_sfakit_prefix() -> None:
    hooks = [
        (name, fn)
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "sfakit_spec")
    ]
    assert hooks, "no hook specifications found"
    for name, fn in hooks:
        assert name.startswith("sfakit_"), name
        assert fn.__doc__, name
        assert len(fn.__doc__.strip()) > 40, name


def test_a_bad_url_is_a_validation_error() -> None:
    with pytest.raises(sfakit.ValidationError) as info:
        sfakit.open("sfakit.db")
    assert info.value.path == "$.url"


def _hook_names() -> list[str]:
    return sorted(
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "sfakit_spec")
    )


@pytest.mark.parametrize("hook", _hook_names())
def test_every_hook_has_a_heading_and_signature_in_the_plugin_docs(hook: str) -> None:
    from pathlib import Path

    page = (Path(__file__).parent.parent / "docs" / "plugins.md").read_text()
    assert f"### {hook}\n" in page
    assert f"def {hook}(" in page


# -- payment verification ---------------------------------------------------------------


def _order_and_account(method: str) -> tuple[Any, Any]:
    from datetime import UTC, datetime

    from sfakit.model import Account, Order, PaymentMethod

    at = datetime(2026, 3, 2, tzinfo=UTC)
    acme = Account(name="Acme", created_at=at)
    order = Order(
        account_id=acme.id, currency="EUR", created_at=at, payment_method=PaymentMethod(method)
    )
    return order, acme


def test_the_default_payment_verification_is_a_built_in_plugin() -> None:
    from sfakit import default_payments

    pm = plugin_manager(load_entry_points=False)
    assert "sfakit.default_payments" in DEFAULT_PLUGINS
    assert pm.get_plugin("sfakit.default_payments") is default_payments
    terms = call_hook(pm, "sfakit_verify_payment", **_kwargs("on_account"))
    card = call_hook(pm, "sfakit_verify_payment", **_kwargs("card"))
    assert (terms.outcome.value, card.outcome.value) == ("approve", "hold")


def _kwargs(method: str) -> dict[str, Any]:
    order, account = _order_and_account(method)
    return {"order": order, "account": account}


class StrictPayments:
    @hookimpl
    def sfakit_verify_payment(self, order: Any, account: Any) -> Any:
        from sfakit.orders import PaymentDecision

        return PaymentDecision.decline("no credit", by="strict")


class Abstaining:
    @hookimpl
    def sfakit_verify_payment(self, order: Any, account: Any) -> Any:
        return None


def test_a_payment_plugin_overrides_the_default_and_none_falls_through() -> None:
    strict = plugin_manager([StrictPayments()], load_entry_points=False)
    decision = call_hook(strict, "sfakit_verify_payment", **_kwargs("on_account"))
    assert (decision.outcome.value, decision.by) == ("decline", "strict")
    abstaining = plugin_manager([Abstaining()], load_entry_points=False)
    decision = call_hook(abstaining, "sfakit_verify_payment", **_kwargs("card"))
    assert decision.by == "sfakit.default_payments"


class CrashingPayments:
    @hookimpl
    def sfakit_verify_payment(self, order: Any, account: Any) -> Any:
        raise RuntimeError("payment provider down")


def test_a_failing_payment_plugin_is_named() -> None:
    pm = plugin_manager([CrashingPayments()], load_entry_points=False)
    with pytest.raises(PluginError) as info:
        call_hook(pm, "sfakit_verify_payment", **_kwargs("card"))
    assert info.value.hook == "sfakit_verify_payment"
    assert "payment provider down" in str(info.value)


# -- calling every plugin on its own (lead enrichment) -----------------------------------


class FirstProposer:
    @hookimpl
    def sfakit_enrich_lead(self, lead: Any) -> Any:
        return ["first"]


class SecondProposer:
    @hookimpl
    def sfakit_enrich_lead(self) -> Any:  # a plugin names only the arguments it needs
        return None


def test_call_each_names_every_plugin_and_keeps_pluggys_order() -> None:
    pm = plugin_manager([FirstProposer(), SecondProposer()], load_entry_points=False)
    answers = call_each(pm, "sfakit_enrich_lead", lead="a lead")
    # pluggy calls the plugin registered last first; instances are named by their class.
    assert answers == [("SecondProposer", None), ("FirstProposer", ["first"])]
    assert call_hook(pm, "sfakit_enrich_lead", lead="a lead") == [["first"]]


def test_the_enrichment_hook_collects_every_plugins_answer() -> None:
    opts = hookspecs.sfakit_enrich_lead.sfakit_spec  # type: ignore[attr-defined]
    assert not opts.get("firstresult")


class FailingProposer:
    @hookimpl
    def sfakit_enrich_lead(self, lead: Any) -> Any:
        raise sfakit.ValidationError("$.confidence", 1.5, "a Decimal from 0 to 1")


def test_call_each_turns_any_plugin_error_into_a_plugin_error() -> None:
    pm = plugin_manager([FirstProposer(), FailingProposer()], load_entry_points=False)
    with pytest.raises(PluginError) as info:
        call_each(pm, "sfakit_enrich_lead", lead="a lead")
    assert (info.value.plugin, info.value.hook) == ("FailingProposer", "sfakit_enrich_lead")
    assert "$.confidence" in str(info.value)


class WrappingProposer:
    @hookimpl(wrapper=True)
    def sfakit_enrich_lead(self, lead: Any) -> Any:
        return (yield)


def test_call_each_refuses_hook_wrappers() -> None:
    pm = plugin_manager([WrappingProposer()], load_entry_points=False)
    with pytest.raises(PluginError) as info:
        call_each(pm, "sfakit_enrich_lead", lead="a lead")
    assert info.value.plugin == "WrappingProposer"
    assert "wrapper" in str(info.value)
