"""sfakit inside a Flask app: a JSON API over one ``Sfa`` per process.

Copy what you need; each part is there for a reason.

* **One Sfa per app.** :func:`create_app` opens it once with :func:`sfakit.open` and keeps
  it in ``app.extensions``; :func:`close_app` closes it (and it is closed anyway when the
  app is garbage-collected or the interpreter exits). Opening per request would check
  the schema, build a plugin manager and open connections every time. Sharing it between
  request threads is safe: ``Sfa`` keeps no per-request state (every operation is one
  storage transaction, and a compiled tree or scorecard it caches is checked against the
  stored setting each time), the memory backend runs transactions under one lock,
  SQLite gives each thread its own connection (WAL journal, writers take the lock up
  front with ``BEGIN IMMEDIATE``), and PostgreSQL hands out pooled connections. Each
  *process* opens its own ``Sfa`` after it starts: do not create the app before a fork
  (``gunicorn --preload``), since connections do not survive one.
* **SQLite and threads.** A SQLite connection belongs to the thread that opened it and
  stays open until the ``Sfa`` is closed, so serve with a fixed pool of threads
  (``gunicorn --threads 8``, waitress), not a new thread per request; for the development
  server that means ``flask run --without-threads``.
* **Errors are mapped once** (:func:`_map_errors`): ``ValidationError`` 422 with the
  field path, ``NotFoundError`` 404, ``ConflictError`` 409, ``StorageError`` 503 (the
  database is busy: try again), any other ``SfaError`` 400. Bad input never gives a 500.
* **Optimistic concurrency.** A write carries the ``expected_version`` the client read;
  if the record changed since, the answer is 409 with the version the server holds now,
  and nothing is overwritten: the client reloads and applies its change again.
* **Notifications** use sfakit's transactional outbox: an operation records its events in
  its own transaction, and nothing is delivered during the request, so a slow mail server
  never slows one and no event is sent for a change that rolled back. A worker delivers
  them with ``Sfa.dispatch_pending``. Every dispatcher of a database must know the same
  notifiers: an event is fanned out once, to the notifiers of the dispatcher that takes
  it. Here they are passed in code, so the worker is this app's ``flask --app ...
  dispatch [--every SECONDS]``; install them as plugins (entry-point group ``sfakit``)
  and ``sfakit worker --db URL`` can be the worker instead, running the scheduler too.
* **Time** comes from the ``clock`` given to :func:`create_app` (a ``ManualClock`` in
  tests). Moments in a request must carry a UTC offset; a naive one is refused with 422.
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

import click
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.cli import with_appcontext
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

import sfakit
from sfakit import Sfa
from sfakit.clock import Clock
from sfakit.codec import from_data, to_data
from sfakit.errors import (
    MISSING,
    ConflictError,
    NotFoundError,
    Problem,
    SfaError,
    StorageError,
    ValidationError,
)
from sfakit.forecast import ForecastReport
from sfakit.model import Lead, Opportunity, StandingOrder
from sfakit.pipeline import MoveRefusedError, Window, losses
from sfakit.service.outbox import DispatchReport
from sfakit.territory import RoutingResult

__all__ = ["close_app", "create_app", "dispatch_notifications", "forecast_data", "sfa_of"]

R = TypeVar("R")

#: Where the app keeps its Sfa, and the finalizer that closes it.
EXTENSION: Final = "sfakit"
_CLOSER: Final = "sfakit.close"
#: The source of a lead whose form names none.
WEB_SOURCE: Final = "website"

#: A body field: how to check it, and what is expected when the check fails.
Check = tuple[Callable[[Any], bool], str]
TEXT: Final[Check] = (lambda v: isinstance(v, str), "a string")
OPTIONAL_TEXT: Final[Check] = (lambda v: v is None or isinstance(v, str), "a string or null")
VERSION: Final[Check] = (
    lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
    "the version you read: a whole number of at least 1",
)

api = Blueprint("sfakit_api", __name__)


# -- the app and its one Sfa -------------------------------------------------------------


def create_app(
    database_url: str, *, clock: Clock | None = None, plugins: Iterable[object] = ()
) -> Flask:
    """The app, with its own ``Sfa`` opened on ``database_url`` (with ``clock`` and the
    ``plugins``, notifiers included)."""
    app = Flask(__name__)
    sfa = sfakit.open(database_url, clock=clock, plugins=tuple(plugins))
    app.extensions[EXTENSION] = sfa
    # The finalizer holds the Sfa, not the app, so the app can still be collected.
    app.extensions[_CLOSER] = weakref.finalize(app, sfa.close)
    app.register_blueprint(api)
    _map_errors(app)
    app.cli.add_command(dispatch_command)
    return app


def sfa_of(app: Flask) -> Sfa:
    """The app's ``Sfa``, for code outside a request (seeding, workers, tests)."""
    sfa: Sfa = app.extensions[EXTENSION]
    return sfa


def close_app(app: Flask) -> None:
    """Close the app's ``Sfa`` (at most once, however often this is called)."""
    app.extensions[_CLOSER]()


def dispatch_notifications(app: Flask) -> DispatchReport:
    """One dispatcher pass: deliver what earlier requests recorded in the outbox."""
    return sfa_of(app).dispatch_pending()


def _sfa() -> Sfa:
    return sfa_of(current_app)


@click.command("dispatch")
@click.option("--every", type=float, default=None, help="Repeat every SECONDS until Ctrl-C.")
@with_appcontext
def dispatch_command(every: float | None) -> None:
    """Deliver the notifications recorded by requests (one pass, or --every SECONDS)."""
    while True:
        report = dispatch_notifications(current_app)
        if every is None or not report.idle:
            click.echo(
                f"fanned out {report.fanned_out}, delivered {report.delivered}, "
                f"to retry {report.retried}, given up {report.dead}"
            )
        if every is None:
            return
        # Ctrl-C may stop a pass midway: what it had claimed is redone after its lease.
        time.sleep(every)


# -- the API -----------------------------------------------------------------------------


@api.post("/leads")
def capture_lead() -> tuple[Response, int, dict[str, str]]:
    """Capture a lead from a form's fields, route it, and score it if a scorecard is set.

    An ``Idempotency-Key`` header makes a retried submission return the first lead, so
    a client that lost the answer can safely send the form again."""
    sfa = _sfa()
    form = _json_object()
    key = request.headers.get("Idempotency-Key")
    lead = sfa.capture(form, source=WEB_SOURCE, idempotency_key=key)
    routing = _if_configured(lambda: sfa.route_lead(lead.id, explain=True))
    score = _if_configured(lambda: sfa.score_lead(lead.id))
    lead = sfa.get(Lead, lead.id)  # routing and scoring stored newer versions
    body = {
        "lead": to_data(lead),
        "routing": None if routing is None else _routing_data(routing),
        "score": None if score is None else to_data(score),
    }
    return _json(body), 201, {"Location": f"/leads/{lead.id}"}


@api.get("/leads/<lead_id>")
def get_lead(lead_id: str) -> Response:
    return _json(to_data(_sfa().get(Lead, lead_id)))


@api.get("/opportunities/<opportunity_id>")
def get_opportunity(opportunity_id: str) -> Response:
    return _json(to_data(_sfa().get(Opportunity, opportunity_id)))


@api.post("/opportunities/<opportunity_id>/move")
def move_opportunity(opportunity_id: str) -> Response:
    """Move a deal to ``stage`` if it is still at ``expected_version`` (else 409)."""
    body = _fields(
        _json_object(),
        required={"stage": TEXT, "expected_version": VERSION},
        optional={"by": OPTIONAL_TEXT, "reason": OPTIONAL_TEXT},
    )
    deal, change = _sfa().move_opportunity(
        opportunity_id,
        body["stage"],
        expected_version=body["expected_version"],
        by=body.get("by"),  # an app with logins takes this from the session instead
        reason=body.get("reason"),
    )
    return _json({"opportunity": to_data(deal), "change": to_data(change)})


@api.get("/pipeline/lost")
def lost_deals() -> Response:
    """Where deals are lost, per stage: optionally of ``pipeline``, closed in
    ``[start, end)`` (ISO 8601 moments with an offset)."""
    window = Window(_moment_arg("start"), _moment_arg("end"))
    result = _sfa().analyse(losses, request.args.get("pipeline"), window=window)
    worst = result.worst
    return _json({**to_data(result), "worst_stage": None if worst is None else worst.stage})


@api.get("/forecast")
def forecast() -> Response:
    """The forecast of ``period`` (repeatable) ``by`` territory, owner, manager or
    product_line, in ``currency`` (default: the stored exchange rates' own)."""
    periods = request.args.getlist("period")
    if not periods:
        raise ValidationError("$.period", expected="a fiscal period such as FY2027-Q1")
    by = request.args.get("by", "territory")
    report = _sfa().forecast(
        periods[0] if len(periods) == 1 else periods,
        by=by,
        currency=request.args.get("currency"),
    )
    return _json(forecast_data(report, by))


@api.post("/standing-orders/<standing_order_id>/skip")
def skip_occurrence(standing_order_id: str) -> Response:
    """Skip the standing order's next occurrence if it is still at ``expected_version``."""
    body = _fields(_json_object(), required={"expected_version": VERSION})
    sfa = _sfa()
    day = sfa.skip_next_occurrence(standing_order_id, expected_version=body["expected_version"])
    # Read again for the new version the client sends with its next change.
    order = sfa.get(StandingOrder, standing_order_id)
    return _json({"skipped": to_data(day), "standing_order": to_data(order)})


def forecast_data(report: ForecastReport, by: str) -> dict[str, Any]:
    """The report as plain data: every line (own and total figures), each period's total."""
    return {
        "currency": report.currency,
        "by": by,
        "periods": [to_data(p) for p in report.periods],
        "lines": [to_data(line) for line in report.lines],
        "totals": {p.name: to_data(report.total(p)) for p in report.periods},
        "exclusions": [to_data(e) for e in report.exclusions],
    }


def _routing_data(result: RoutingResult) -> dict[str, Any]:
    return {
        "owner": result.owner,
        "queue": result.queue,
        "territory": result.territory,
        "outcome": result.outcome.value,
        "explanation": list(result.trace.steps),
        "trace": to_data(result.trace),
    }


def _if_configured(step: Callable[[], R]) -> R | None:
    """Run an optional step; None when the setting it needs (the territory tree, the
    scorecard) was never stored."""
    try:
        return step()
    except NotFoundError as missing:
        if missing.entity != "Setting":
            raise
        return None


# -- reading requests --------------------------------------------------------------------


def _json_object() -> dict[str, Any]:
    body = request.get_json()  # malformed JSON: 400; not sent as JSON: 415
    if not isinstance(body, dict):
        raise ValidationError("$", body, "a JSON object")
    _refuse_unstorable(body, "$")
    return body


def _refuse_unstorable(value: object, path: str) -> None:
    """JSON may carry lone surrogates (``"\\ud800"``) and NUL characters, which no
    database stores as text: refuse them here, at the edge, with their path."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(path, value, "text without lone surrogates") from None
        if "\x00" in value:
            raise ValidationError(path, value, "text without NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_unstorable(key, path)
            _refuse_unstorable(item, f"{path}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _refuse_unstorable(item, f"{path}[{n}]")


def _fields(
    body: Mapping[str, Any],
    *,
    required: Mapping[str, Check],
    optional: Mapping[str, Check] | None = None,
) -> dict[str, Any]:
    """``body`` checked: every required field there, no unknown one, each of its type.
    Every problem is reported at once, as sfakit reports them."""
    checks = {**required, **(optional or {})}
    problems = [
        Problem(f"$.{name}", f"one of the fields {', '.join(checks)}", value)
        for name, value in body.items()
        if name not in checks
    ]
    for name, (check, expected) in checks.items():
        if name in body and not check(body[name]):
            problems.append(Problem(f"$.{name}", expected, body[name]))
        elif name not in body and name in required:
            problems.append(Problem(f"$.{name}", f"{expected} (required)"))
    if problems:
        raise ValidationError.from_problems(problems, subject="request")
    return dict(body)


def _moment_arg(name: str) -> datetime | None:
    text = request.args.get(name)
    if text is None:
        return None
    try:
        moment: datetime = from_data(datetime, text)  # refuses a naive datetime
    except ValidationError as err:
        raise err.under(f"$.{name}") from None
    return moment


# -- answers -----------------------------------------------------------------------------


def _json(data: object, status: int = 200) -> Response:
    response = jsonify(data)
    response.status_code = status
    return response


def _map_errors(app: Flask) -> None:
    """Flask picks the handler of the most specific class: ValidationError before
    SfaError, StorageError before SfaError."""
    app.register_error_handler(ValidationError, _invalid)
    app.register_error_handler(NotFoundError, _not_found)
    app.register_error_handler(ConflictError, _conflict)
    app.register_error_handler(StorageError, _busy)
    app.register_error_handler(MoveRefusedError, _refused_move)
    app.register_error_handler(SfaError, _refused)
    app.register_error_handler(HTTPException, _http_error)


def _invalid(err: ValidationError) -> Response:
    problems = [
        {"path": p.path, "expected": p.expected}
        | ({} if p.value is MISSING else {"value": _shown(p.value)})
        for p in err.problems
    ]
    return _json({"error": str(err), **problems[0], "problems": problems}, 422)


def _not_found(err: NotFoundError) -> Response:
    return _json({"error": str(err), "entity": err.entity, err.field: err.key}, 404)


def _conflict(err: ConflictError) -> Response:
    # The message already says "reload it and apply the change again".
    body = {
        "error": str(err),
        "entity": err.entity,
        "id": err.id,
        "expected_version": err.expected_version,
        "current_version": err.current_version,
    }
    return _json(body, 409)


def _busy(err: StorageError) -> Response:
    response = _json({"error": str(err)}, 503)
    response.headers["Retry-After"] = "1"
    return response


def _refused_move(err: MoveRefusedError) -> Response:
    return _json({"error": str(err), "unmet": to_data(err.unmet)}, 400)


def _refused(err: SfaError) -> Response:
    return _json({"error": str(err)}, 400)


def _http_error(err: HTTPException) -> WerkzeugResponse:
    # Unknown URLs, wrong methods, malformed JSON: JSON too, with werkzeug's headers.
    response = err.get_response()
    response.set_data(jsonify({"error": err.description}).get_data())
    response.content_type = "application/json"
    return response


def _shown(value: object) -> object:
    """A bad value as JSON can carry it: JSON values as they came, others as in the
    error message."""
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, list | tuple):
        return [_shown(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _shown(item) for key, item in value.items()}
    return repr(value)
