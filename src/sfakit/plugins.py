"""Finding and calling plugins.

Each :class:`~sfakit.Sfa` owns one plugin manager (no global registry), made by
:func:`plugin_manager`: the built-in plugins in :data:`DEFAULT_PLUGINS` first, then
every plugin installed under the ``sfakit`` entry-point group, then the ones the
application passes in. A plugin that implements a hook no spec declares fails loudly
(``check_pending``), and an exception inside a plugin reaches the caller as a
:class:`~sfakit.errors.PluginError` that names the plugin and the hook.

>>> from sfakit.plugins import plugin_manager
>>> pm = plugin_manager(load_entry_points=False)
>>> sorted(storage_schemes(pm))
['memory', 'postgres', 'postgresql', 'sqlite']
"""

from __future__ import annotations

import importlib
import typing
from collections.abc import Iterable
from types import ModuleType, TracebackType
from typing import Any, Final

import pluggy

from sfakit import hookspecs
from sfakit.errors import PluginError, SfaError

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PROJECT_NAME",
    "call_each",
    "call_hook",
    "hookimpl",
    "plugin_manager",
    "storage_schemes",
]

PROJECT_NAME: Final = "sfakit"
ENTRY_POINT_GROUP: Final = "sfakit"

#: Marks a function or method as the implementation of an sfakit hook.
hookimpl: Final = pluggy.HookimplMarker(PROJECT_NAME)

#: Built-in plugins, registered before third-party ones, exactly like them.
DEFAULT_PLUGINS: Final = (
    "sfakit.backends.memory",
    "sfakit.backends.sqlite",
    "sfakit.backends.postgres",
    "sfakit.default_payments",
)


def plugin_manager(
    plugins: Iterable[object] = (), *, load_entry_points: bool = True
) -> pluggy.PluginManager:
    """A new plugin manager with the built-ins, installed plugins and ``plugins``.

    ``plugins`` may hold modules, classes or instances that carry ``@hookimpl`` methods.
    """
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if load_entry_points:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:  # a broken installed plugin must say which it is
            raise PluginError(
                f"could not load an installed sfakit plugin: {type(exc).__name__}: {exc}"
            ) from exc
    for plugin in plugins:
        try:
            pm.register(plugin)
        except ValueError as exc:
            raise PluginError(f"plugin {_name_of(plugin)} could not be registered: {exc}") from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc), plugin=_name_of(exc.plugin)) from exc
    return pm


def _name_of(plugin: object) -> str:
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    return getattr(plugin, "__name__", type(plugin).__name__)


def _readable_name(registered: str, plugin: object) -> str:
    # pluggy names an instance registered without a name by its id(); its class says more.
    return _name_of(plugin) if registered == str(id(plugin)) else registered


def _culprit(pm: pluggy.PluginManager, hook: str, tb: TracebackType | None) -> str | None:
    """The name of the plugin whose hook function appears deepest in ``tb``."""
    codes = {
        impl.function.__code__: impl.plugin_name
        for impl in getattr(pm.hook, hook).get_hookimpls()
        if hasattr(impl.function, "__code__")
    }
    found = None
    while tb is not None:
        found = codes.get(tb.tb_frame.f_code, found)
        tb = tb.tb_next
    return found


def call_hook(pm: pluggy.PluginManager, hook: str, **kwargs: Any) -> Any:
    """Call ``hook`` with ``kwargs``; a plugin's non-sfakit exception becomes a PluginError.

    sfakit errors a plugin raises on purpose (a ValidationError, a ConflictError) pass
    through unchanged.
    """
    try:
        return getattr(pm.hook, hook)(**kwargs)
    except SfaError:
        raise
    except Exception as exc:
        plugin = _culprit(pm, hook, exc.__traceback__) or "unknown plugin"
        raise PluginError(
            f"plugin {plugin!r} failed in hook {hook}: {type(exc).__name__}: {exc}",
            plugin=plugin,
            hook=hook,
        ) from exc


def call_each(pm: pluggy.PluginManager, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call every plugin's implementation of ``hook`` on its own, in pluggy's call order,
    and return ``(plugin name, result)`` pairs, so a caller can record who said what.

    A plugin is named as registered (a module by its name), an instance registered
    without a name by its class. Each implementation gets the ``kwargs`` it names, as
    pluggy passes them. Unlike :func:`call_hook`, every exception a plugin raises — an
    sfakit error too — becomes a :class:`~sfakit.errors.PluginError` naming the plugin
    and the hook: for the hooks called this way a plugin's error is never the caller's
    input error. Hook wrappers are refused, since each implementation is called directly.

    >>> pm = plugin_manager(load_entry_points=False)
    >>> sorted(name for name, _ in call_each(pm, "sfakit_storage_schemes"))
    ['sfakit.backends.memory', 'sfakit.backends.postgres', 'sfakit.backends.sqlite']
    """
    results: list[tuple[str, Any]] = []
    # pluggy calls the last registered (and tryfirst) implementations first.
    for impl in reversed(getattr(pm.hook, hook).get_hookimpls()):
        name = _readable_name(impl.plugin_name, impl.plugin)
        if impl.hookwrapper or impl.wrapper:
            raise PluginError(
                f"plugin {name!r} wraps hook {hook}, which is called once per plugin: "
                "implement it without wrapper=True",
                plugin=name,
                hook=hook,
            )
        try:
            result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {name!r} failed in hook {hook}: {type(exc).__name__}: {exc}",
                plugin=name,
                hook=hook,
            ) from exc
        results.append((name, result))
    return results


def storage_schemes(pm: pluggy.PluginManager) -> dict[str, list[str]]:
    """Each URL scheme on offer → the plugins that offer it."""
    offered: dict[str, list[str]] = {}
    for impl in pm.hook.sfakit_storage_schemes.get_hookimpls():
        try:
            schemes = list(typing.cast("list[str]", impl.function()))
        except Exception as exc:
            raise PluginError(
                f"plugin {impl.plugin_name!r} failed in hook sfakit_storage_schemes: {exc}",
                plugin=impl.plugin_name,
                hook="sfakit_storage_schemes",
            ) from exc
        for scheme in schemes:
            offered.setdefault(scheme, []).append(impl.plugin_name)
    return offered
