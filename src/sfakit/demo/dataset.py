"""The demo's book of business, made up from a seed: a sales team in a territory tree,
customers, two years of leads and deals, and standing orders.

Everything here is pure: the same seed and day always give the same records (history
entries, like every :class:`~sfakit.model.StageChange`, get fresh ids). Deals are
moved with :func:`sfakit.pipeline.move`, exactly as the service moves them, so their
stored history is what the service would have written; leads that were already worked
were routed with :func:`sfakit.territory.route_many` over the same tree. What happens in
the last six months is not applied here but kept as a plan (:class:`DealStep`,
:class:`LeadArrival`) that :mod:`sfakit.demo.simulation` replays through the service.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import attrs

from sfakit.model import (
    Account,
    AccountId,
    Contact,
    ContactId,
    ContactRole,
    Lead,
    LeadStatus,
    Opportunity,
    OpportunityId,
    OrderLine,
    Product,
    ProductId,
    RecurrenceSpec,
    SalesRep,
    SalesRepId,
    StageChange,
)
from sfakit.model.money import Money
from sfakit.pipeline import DealContext, Pipeline, creation_change, move, standard_pipeline
from sfakit.qualification import Scorecard, ScoreGroup, ScoreRule
from sfakit.recurrence import FollowUpAction, FollowUpKind, FollowUpRule, FollowUpRules
from sfakit.rules import field
from sfakit.territory import (
    AssignmentState,
    Member,
    RoutingIndex,
    RoutingSubject,
    Strategy,
    StrategySpec,
    TerritoryNode,
    TerritoryTree,
    compile_index,
    route_many,
)

from .geography import COUNTRIES, REGIONS, UNCOVERED, Country
from .names import (
    COMPANY_KINDS,
    COMPANY_WORDS,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    LEGAL_FORMS,
    LOST_REASONS,
    SOURCES,
    TITLES,
)

__all__ = ["DemoSize", "Dataset", "DealStep", "LeadArrival", "SIZES", "generate"]

CURRENCY: Final = "EUR"
#: How long the scheduler runs in the demo before the report.
SIMULATED_DAYS: Final = 182
HISTORY_DAYS: Final = 730
#: Companies from this many employees are enterprise accounts with a team of their own.
ENTERPRISE_SIZE: Final = 1000
SOURCE_NAMES: Final = tuple(s[0] for s in SOURCES)
SOURCE_WEIGHTS: Final = tuple(s[1] for s in SOURCES)
PRODUCT_LINES: Final = ("lamps", "fixtures", "controls", "projects")
REGION_CONVERSION: Final = {"EMEA": 1.15, "Americas": 0.95, "APAC": 0.75}
#: The chance a deal is lost while in each open stage, and the usual days spent there.
STAGE_PLAN: Final = (
    ("prospect", 0.22, 9),
    ("qualify", 0.24, 14),
    ("propose", 0.30, 18),
    ("negotiate", 0.18, 12),
)
#: Why deals are lost, by stage: early for budget and timing, late for price.
LOST_WEIGHTS: Final = {
    "prospect": (1, 1, 5, 2, 4, 2),
    "qualify": (2, 3, 4, 3, 3, 1),
    "propose": (6, 5, 1, 2, 2, 1),
    "negotiate": (6, 3, 1, 4, 1, 1),
}


@attrs.frozen
class DemoSize:
    """How much the demo makes up."""

    name: str
    reps: int
    accounts: int
    leads: int
    opportunities: int
    standing_orders: int


SIZES: Final = {
    "full": DemoSize("full", 50, 3_000, 20_000, 5_000, 500),
    "small": DemoSize("small", 12, 150, 1_000, 250, 25),
}


@attrs.frozen
class LeadArrival:
    """A lead that arrives during the simulated months (captured then routed)."""

    at: datetime
    lead: Lead
    engagements: tuple[tuple[str, str | None], ...]


@attrs.frozen
class DealStep:
    """Something that happens to a deal during the simulated months: ``stage`` None
    opens ``deal``; otherwise it moves to ``stage`` (``reason`` when lost)."""

    at: datetime
    deal: Opportunity
    stage: str | None
    reason: str | None = None


@attrs.frozen
class Dataset:
    """The generated book: what is stored before the simulation, and its plan."""

    today: date
    start: datetime  # the first simulated moment
    reps: tuple[SalesRep, ...]
    tree: TerritoryTree
    scorecard: Scorecard
    follow_ups: FollowUpRules
    products: tuple[Product, ...]
    accounts: tuple[Account, ...]
    contacts: tuple[Contact, ...]
    leads: tuple[Lead, ...]
    opportunities: tuple[Opportunity, ...]
    stage_changes: tuple[StageChange, ...]
    standing_orders: tuple[dict[str, object], ...]
    arrivals: tuple[LeadArrival, ...]
    deal_steps: tuple[DealStep, ...]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


class _Maker:
    """One generation run: the random source and what was made so far."""

    def __init__(self, seed: int, today: date, size: DemoSize) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.size = size
        self.end = _midnight(today)
        self.start = self.end - timedelta(days=SIMULATED_DAYS)
        self.first = self.end - timedelta(days=HISTORY_DAYS)
        self.pipeline: Pipeline = standard_pipeline()
        self.weights = [c.weight for c in COUNTRIES]

    # -- helpers ---------------------------------------------------------------------

    def moment(self, low: datetime, high: datetime) -> datetime:
        seconds = int((high - low).total_seconds())
        return low + timedelta(seconds=self.rng.randrange(max(seconds, 1)))

    def country(self) -> Country:
        return self.rng.choices(COUNTRIES, weights=self.weights)[0]

    def person(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def company(self) -> str:
        words = self.rng.sample(COMPANY_WORDS, 1)[0], self.rng.choice(COMPANY_KINDS)
        return f"{words[0]} {words[1]} {self.rng.choice(LEGAL_FORMS)} {self.rng.randrange(1, 999)}"

    def company_size(self) -> int:
        return max(1, int(self.rng.lognormvariate(4.2, 1.4)))

    def last_order(self, customer_since: datetime) -> datetime | None:
        """When a customer last ordered before the simulation: mostly in its last 200
        days; one in ten never ordered."""
        if self.rng.random() < 0.1:
            return None
        return self.moment(max(customer_since, self.start - timedelta(days=200)), self.start)

    def postal_code(self) -> str:
        return f"{self.rng.randrange(100000):05d}"

    # -- the team --------------------------------------------------------------------

    def reps(self) -> tuple[list[SalesRep], dict[str, list[str]], dict[str, list[str]]]:
        """Three regional managers, then sales reps shared out by the regions' weight;
        one in four is an enterprise rep."""
        created = self.first - timedelta(days=30)
        reps: list[SalesRep] = []
        sellers: dict[str, list[str]] = {r: [] for r in REGIONS}
        enterprise: dict[str, list[str]] = {r: [] for r in REGIONS}
        share = {r: sum(c.weight for c in COUNTRIES if c.region == r) for r in REGIONS}
        total = sum(share.values())
        zone = {"EMEA": "Europe/Berlin", "Americas": "America/New_York", "APAC": "Asia/Singapore"}
        for region in REGIONS:
            first, last = self.person()
            manager = SalesRep(
                id=SalesRepId(f"rep_{region.lower()}_lead"),
                name=f"{first} {last}",
                email=f"{region.lower()}.lead@sales.example.com",
                timezone=zone[region],
                created_at=created,
            )
            reps.append(manager)
        sellers_total = max(self.size.reps - len(REGIONS), 2 * len(REGIONS))
        counts = {r: max(2, round(sellers_total * share[r] / total)) for r in REGIONS}
        for region in REGIONS:
            for n in range(counts[region]):
                first, last = self.person()
                rep_id = f"rep_{region.lower()}_{n + 1:02d}"
                is_enterprise = n % 4 == 3
                reps.append(
                    SalesRep(
                        id=SalesRepId(rep_id),
                        name=f"{first} {last}",
                        email=f"{rep_id.removeprefix('rep_')}@sales.example.com",
                        manager_id=SalesRepId(f"rep_{region.lower()}_lead"),
                        capacity=None if is_enterprise else self.rng.choice((None, 400, 600)),
                        skills=("enterprise",) if is_enterprise else (),
                        languages=tuple(
                            sorted({"en", *(c.language for c in COUNTRIES if c.region == region)})
                        ),
                        timezone=zone[region],
                        created_at=created,
                    )
                )
                (enterprise if is_enterprise else sellers)[region].append(rep_id)
            if not enterprise[region]:
                enterprise[region] = sellers[region][:1]
        return reps, sellers, enterprise

    def tree(
        self, sellers: dict[str, list[str]], enterprise: dict[str, list[str]]
    ) -> TerritoryTree:
        """World → region → country → (postal-code tens | enterprise), about 200 nodes."""
        nodes = [TerritoryNode(key="world", name="Worldwide", fallback_queue="unrouted")]
        turn = dict.fromkeys(REGIONS, 0)

        def members(region: str, count: int) -> list[Member]:
            team = sellers[region]
            picked = [team[(turn[region] + k) % len(team)] for k in range(count)]
            turn[region] += count
            return [Member(rep) for rep in dict.fromkeys(picked)]

        for region in REGIONS:
            key = region.lower()
            nodes.append(
                TerritoryNode(
                    key=key,
                    name=region,
                    parent="world",
                    territory_id=f"terr_{key}",
                    rules=field("country").isin([c.code for c in COUNTRIES if c.region == region]),
                    fallback_queue=f"{key}-inbox",
                )
            )
        for country in COUNTRIES:
            key = country.code.lower()
            region = country.region
            nodes.append(
                TerritoryNode(
                    key=key,
                    name=country.code,
                    parent=region.lower(),
                    territory_id=f"terr_{key}",
                    rules=field("country").eq(country.code),
                    members=[] if country.split else members(region, 2),
                    strategy=StrategySpec(name=Strategy.LEAST_LOADED),
                )
            )
            nodes.append(
                TerritoryNode(
                    key=f"{key}-enterprise",
                    name=f"{country.code} enterprise",
                    parent=key,
                    territory_id=f"terr_{key}-enterprise",
                    priority=5,
                    rules=field("company_size").ge(ENTERPRISE_SIZE),
                    members=[Member(rep) for rep in enterprise[region]],
                    strategy=StrategySpec(name=Strategy.LEAST_LOADED),
                )
            )
            if country.split:
                for digit in range(10):
                    nodes.append(
                        TerritoryNode(
                            key=f"{key}-{digit}",
                            name=f"{country.code} {digit}xxxx",
                            parent=key,
                            territory_id=f"terr_{key}-{digit}",
                            rules=field("postal_code").startswith(str(digit)),
                            members=members(region, 2),
                        )
                    )
        return TerritoryTree(nodes=nodes)

    # -- customers and leads ---------------------------------------------------------

    def products(self) -> list[Product]:
        made = self.first - timedelta(days=60)
        catalogue = (
            ("LED-9W", "LED bulb 9 W", "1.20", "lamps"),
            ("LED-14W", "LED bulb 14 W", "1.90", "lamps"),
            ("TUBE-120", "LED tube 120 cm", "6.50", "lamps"),
            ("PANEL-60", "Ceiling panel 60x60", "38.00", "fixtures"),
            ("SPOT-GU10", "Track spot GU10", "24.00", "fixtures"),
            ("HIGHBAY-150", "High bay 150 W", "119.00", "fixtures"),
            ("SENSOR-PIR", "Motion sensor", "18.50", "controls"),
            ("DALI-GW", "DALI gateway", "240.00", "controls"),
            ("RETRO-SVC", "Retrofit service day", "890.00", "projects"),
        )
        return [
            Product(
                id=ProductId(f"prod_{sku.lower()}"),
                sku=sku,
                name=name,
                unit_price=Money.of(price, CURRENCY),
                product_line=line,
                created_at=made,
            )
            for sku, name, price, line in catalogue
        ]

    def lead_fields(self, number: int, created_at: datetime) -> dict[str, Any]:
        """A lead's fields as a web form or a trade-show list would give them."""
        uncovered = self.rng.random() < 0.01
        country = self.country()
        first, last = self.person()
        company = self.company()
        source = self.rng.choices(SOURCE_NAMES, weights=SOURCE_WEIGHTS)[0]
        interest = tuple(sorted(self.rng.sample(PRODUCT_LINES, self.rng.choice((1, 1, 2)))))
        domain = company.split()[0].lower()
        return {
            "id": f"lead_{number:06d}",
            "created_at": created_at,
            "source": source,
            "campaign": f"{source}-{created_at.year}-q{(created_at.month - 1) // 3 + 1}",
            "first_name": first,
            "last_name": last,
            "company": company,
            "title": self.rng.choice(TITLES),
            "email": f"{first.lower()[:1]}.{number}@{domain}.example.com",
            "country": self.rng.choice(UNCOVERED) if uncovered else country.code,
            "region": "EMEA" if uncovered else country.region,
            "postal_code": self.postal_code(),
            "industry": self.rng.choice(INDUSTRIES),
            "company_size": self.company_size(),
            "product_interest": interest,
            "language": "en" if uncovered else country.language,
        }

    def converts(self, lead: dict[str, Any]) -> bool:
        rate = next(s[2] for s in SOURCES if s[0] == lead["source"])
        rate *= REGION_CONVERSION.get(lead["region"], 1.0)
        if lead["company_size"] >= 250:
            rate *= 1.3
        return self.rng.random() < rate

    def contact(self, account: Account, owner: SalesRepId | None) -> Contact:
        first, last = self.person()
        return Contact(
            id=ContactId(account.id.replace("acct_", "cont_")),
            account_id=account.id,
            first_name=first,
            last_name=last,
            title=self.rng.choice(TITLES),
            roles=(ContactRole.DECISION_MAKER,),
            emails=(
                f"{first.lower()[:1]}.{last.lower()[:3]}.{self.rng.randrange(10**6)}@buyer.example.com",
            ),
            owner_id=owner,
            created_at=account.created_at,
        )


def _subject(fields: dict[str, Any]) -> RoutingSubject:
    return RoutingSubject(
        id=fields["id"],
        country=fields["country"],
        region=fields["region"],
        postal_code=fields["postal_code"],
        industry=fields["industry"],
        company_size=fields["company_size"],
        product_interest=fields["product_interest"],
        language=fields["language"],
        source=fields["source"],
    )


def _lost_reason(maker: _Maker, stage: str) -> str:
    return maker.rng.choices(LOST_REASONS, weights=LOST_WEIGHTS[stage])[0]


def _deal_plan(maker: _Maker, created: datetime) -> list[tuple[datetime, str, str | None]]:
    """The stages a deal goes through after ``created``, when, and why it was lost."""
    steps: list[tuple[datetime, str, str | None]] = []
    at = created
    for stage, loss, days in STAGE_PLAN:
        at += timedelta(days=maker.rng.expovariate(1 / days) + 0.5)
        if maker.rng.random() < loss:
            steps.append((at, "closed_lost", _lost_reason(maker, stage)))
            return steps
        following = {"prospect": "qualify", "qualify": "propose", "propose": "negotiate"}
        steps.append((at, following.get(stage, "closed_won"), None))
    return steps


def _history(
    maker: _Maker,
    deal: Opportunity,
    plan: Sequence[tuple[datetime, str, str | None]],
    context: DealContext,
    changes: list[StageChange],
) -> tuple[Opportunity, list[DealStep]]:
    """Apply the steps before the simulation starts; return the deal as it is then, and
    the steps left for the simulation (those up to today)."""
    pipeline = maker.pipeline
    later: list[DealStep] = []
    for at, stage, reason in plan:
        if at >= maker.end:
            break
        if at >= maker.start:
            later.append(DealStep(at, deal, stage, reason))
            continue
        entered = changes[-1].at if changes else deal.created_at
        context = attrs.evolve(context, opportunity=deal, stage_entered_at=entered)
        deal, change = move(pipeline, context, stage, by=deal.owner_id, at=at, reason=reason)
        changes.append(change)
    return deal, later


def generate(seed: int, today: date, size: DemoSize) -> Dataset:
    """The demo's book for ``seed``, ending on ``today`` (see the module docs)."""
    maker = _Maker(seed, today, size)
    reps, sellers, enterprise = maker.reps()
    tree = maker.tree(sellers, enterprise)
    index = compile_index(tree)
    # Capacity limits open items: the book's old leads were worked and closed long ago.
    uncapped = {rep.id: rep.evolve(capacity=None) for rep in reps}
    leads_before = int(size.leads * (HISTORY_DAYS - SIMULATED_DAYS) / HISTORY_DAYS)
    leads, accounts, contacts, state = _worked_leads(maker, index, uncapped, leads_before)
    _older_customers(maker, index, reps=uncapped, state=state, accounts=accounts, contacts=contacts)
    contact_of = {str(c.account_id): c for c in contacts}
    opportunities, changes, steps = _deals(maker, accounts, contact_of)
    return Dataset(
        today=today,
        start=maker.start,
        reps=tuple(reps),
        tree=tree,
        scorecard=_scorecard(),
        follow_ups=_follow_up_rules(),
        products=tuple(maker.products()),
        accounts=tuple(accounts),
        contacts=tuple(contacts),
        leads=tuple(leads),
        opportunities=tuple(opportunities),
        stage_changes=tuple(changes),
        standing_orders=tuple(_standing_orders(maker, accounts, contact_of)),
        arrivals=tuple(_arrivals(maker, leads_before)),
        deal_steps=tuple(steps),
    )


def _worked_leads(
    maker: _Maker, index: RoutingIndex, reps: dict[SalesRepId, SalesRep], count: int
) -> tuple[list[Lead], list[Account], list[Contact], AssignmentState]:
    """Leads that arrived before the simulation: routed, then converted (into a customer
    with a decision maker), disqualified or nurtured."""
    created = sorted(maker.moment(maker.first, maker.start) for _ in range(count))
    old_leads = [maker.lead_fields(n + 1, at) for n, at in enumerate(created)]
    routed = route_many(
        [_subject(fields) for fields in old_leads], index, AssignmentState(), maker.start, reps=reps
    )
    accounts: list[Account] = []
    contacts: list[Contact] = []
    leads: list[Lead] = []
    for fields, result in zip(old_leads, routed.results, strict=True):
        territory = result.territory
        fields.update(
            owner_id=result.owner,
            territory_key=territory,
            territory_id=f"terr_{territory}" if territory else None,
            queue=None if result.owner else result.queue,
        )
        worked_for = timedelta(days=maker.rng.randrange(3, 60))
        closed_at = min(fields["created_at"] + worked_for, maker.start - timedelta(seconds=1))
        if result.owner is None:
            fields["status"] = LeadStatus.NEW
        elif maker.converts(fields):
            account = Account(
                id=AccountId(f"acct_{len(accounts) + 1:05d}"),
                name=fields["company"],
                owner_id=result.owner,
                territory_id=fields["territory_id"],
                territory_key=territory,
                industry=fields["industry"],
                billing_country=fields["country"],
                billing_postal_code=fields["postal_code"],
                employee_count=fields["company_size"],
                last_order_at=maker.last_order(closed_at),
                created_at=closed_at,
            )
            contact = maker.contact(account, result.owner)
            accounts.append(account)
            contacts.append(contact)
            fields.update(
                status=LeadStatus.CONVERTED,
                converted_at=closed_at,
                converted_account_id=account.id,
                converted_contact_id=contact.id,
                qualified_at=fields["created_at"] + worked_for / 2,
                updated_at=closed_at,
            )
        elif maker.rng.random() < 0.55:
            fields.update(
                status=LeadStatus.DISQUALIFIED,
                disqualification_reason=maker.rng.choice(
                    ("no budget", "no need", "student", "competitor", "duplicate")
                ),
                updated_at=closed_at,
            )
        else:
            fields.update(status=LeadStatus.NURTURING, updated_at=closed_at)
        leads.append(Lead(**fields))
    return leads, accounts, contacts, routed.state


def _older_customers(
    maker: _Maker,
    index: RoutingIndex,
    *,
    reps: dict[SalesRepId, SalesRep],
    state: AssignmentState,
    accounts: list[Account],
    contacts: list[Contact],
) -> None:
    """Customers won before the two years, up to the size's account count (appended)."""
    older: list[Account] = []
    while len(accounts) + len(older) < maker.size.accounts:
        country = maker.country()
        older.append(
            Account(
                id=AccountId(f"acct_{len(accounts) + len(older) + 1:05d}"),
                name=maker.company(),
                industry=maker.rng.choice(INDUSTRIES),
                billing_country=country.code,
                billing_postal_code=maker.postal_code(),
                employee_count=maker.company_size(),
                last_order_at=maker.last_order(maker.first),
                created_at=maker.first - timedelta(days=maker.rng.randrange(30, 900)),
            )
        )
    subjects = [RoutingSubject.from_account(a) for a in older]
    decided = route_many(subjects, index, state, maker.start, reps=reps)
    for account, result in zip(older, decided.results, strict=True):
        territory = result.territory
        placed = account.evolve(
            owner_id=result.owner,
            territory_key=territory,
            territory_id=f"terr_{territory}" if territory else None,
        )
        accounts.append(placed)
        contacts.append(maker.contact(placed, result.owner))


def _arrivals(maker: _Maker, first: int) -> list[LeadArrival]:
    """The leads that arrive during the simulation, with what they did on the web site."""
    arrivals: list[LeadArrival] = []
    kinds = ("page_view", "email_open", "webinar_attended", "pricing_request")
    for n in range(first, maker.size.leads):
        fields = maker.lead_fields(n + 1, maker.moment(maker.start, maker.end))
        engagements = tuple(
            (kind, "/pricing" if kind == "page_view" and maker.rng.random() < 0.4 else None)
            for kind in maker.rng.sample(kinds, maker.rng.choice((0, 0, 1, 1, 2, 3)))
        )
        arrivals.append(LeadArrival(fields["created_at"], Lead(**fields), engagements))
    arrivals.sort(key=lambda a: a.at)
    return arrivals


def _deals(
    maker: _Maker, accounts: Sequence[Account], contact_of: dict[str, Contact]
) -> tuple[list[Opportunity], list[StageChange], list[DealStep]]:
    """Deals spread over the two years, each one's fate planned from its creation: the
    history before the simulation applied, the rest left as steps for it."""
    opportunities: list[Opportunity] = []
    changes: list[StageChange] = []
    steps: list[DealStep] = []
    weights = [1 + (a.employee_count or 0) ** 0.5 for a in accounts]
    pipeline = maker.pipeline
    for n in range(maker.size.opportunities):
        account = maker.rng.choices(accounts, weights=weights)[0]
        created_at = maker.moment(maker.first, maker.end - timedelta(days=3))
        plan = _deal_plan(maker, created_at)
        expected_close = (plan[-1][0] if plan else created_at).date()
        if expected_close < maker.today:
            close_date = expected_close
        else:
            close_date = maker.today + timedelta(days=maker.rng.randrange(5, 200))
        amount = Decimal(int(maker.rng.lognormvariate(9.6, 0.8)) // 10 * 10 + 500)
        line = maker.rng.choice(PRODUCT_LINES)
        deal = Opportunity(
            id=OpportunityId(f"opp_{n + 1:05d}"),
            name=f"{account.name}: {line} #{n + 1}",
            account_id=account.id,
            pipeline=pipeline.key,
            stage=pipeline.stages[0].key,
            amount=Money.of(amount, CURRENCY),
            close_date=close_date,
            owner_id=account.owner_id,
            territory_id=account.territory_id,
            source=maker.rng.choices(SOURCE_NAMES, weights=SOURCE_WEIGHTS)[0],
            product_line=line,
            next_step="Call back with a proposal",
            created_at=created_at,
        )
        if created_at >= maker.start:
            steps.append(DealStep(created_at, deal, None))
            steps += [DealStep(at, deal, stage, why) for at, stage, why in plan if at < maker.end]
            continue
        deal_changes = [creation_change(pipeline, deal, by=deal.owner_id)]
        context = DealContext(opportunity=deal, account=account, contacts=(contact_of[account.id],))
        deal, later = _history(maker, deal, plan, context, deal_changes)
        opportunities.append(deal)
        changes += deal_changes
        steps += later
    steps.sort(key=lambda s: (s.at, s.deal.id))
    return opportunities, changes, steps


#: Standing-order rhythms customers ask for, in RFC 5545 text, with how often each occurs.
RHYTHMS: Final = (
    ("FREQ=MONTHLY;INTERVAL=2", 30),  # "every two months"
    ("FREQ=MONTHLY", 30),
    ("FREQ=WEEKLY;INTERVAL=2", 15),
    ("FREQ=MONTHLY;BYDAY=-1FR", 10),  # the last Friday of the month
    ("FREQ=MONTHLY;INTERVAL=3", 10),
    ("FREQ=WEEKLY", 5),
)


def _standing_orders(
    maker: _Maker, accounts: Sequence[Account], contact_of: dict[str, Contact]
) -> list[dict[str, object]]:
    """Fields for ``Sfa.create_standing_order``: lines of lamps, first due in the first
    two simulated months, at 08:00 in the customer's country."""
    products = maker.products()
    zones = {c.code: c.timezone for c in COUNTRIES}
    chosen = maker.rng.sample(list(accounts), min(maker.size.standing_orders, len(accounts)))
    made: list[dict[str, object]] = []
    for number, account in enumerate(chosen, start=1):
        rule = maker.rng.choices([r[0] for r in RHYTHMS], weights=[r[1] for r in RHYTHMS])[0]
        first_day = (maker.start + timedelta(days=maker.rng.randrange(0, 60))).date()
        if maker.rng.random() < 0.1:
            # Anchored on the 31st: shorter months clamp to their last day.
            while first_day.day != 31:
                first_day += timedelta(days=1)
            rule = "FREQ=MONTHLY"
        zone = zones.get(account.billing_country or "", "UTC")
        start = datetime.combine(first_day, time(8, 0), tzinfo=ZoneInfo(zone))
        lines = [
            OrderLine(
                product_id=product.id,
                quantity=maker.rng.choice((50, 100, 250, 500, 1000)),
                unit_price=product.unit_price,
            )
            for product in maker.rng.sample(products[:5], maker.rng.choice((1, 1, 2)))
        ]
        made.append(
            {
                "id": f"stdo_{number:04d}",
                "account_id": account.id,
                "contact_id": contact_of[account.id].id,
                "currency": CURRENCY,
                "lines": lines,
                "schedule": RecurrenceSpec(rule=rule, start=start, timezone=zone),
                "owner_id": account.owner_id,
                "created_at": maker.start - timedelta(days=maker.rng.randrange(1, 30)),
            }
        )
    return made


def _scorecard() -> Scorecard:
    """Fit (who they are) and engagement (what they did), capped at 100."""
    return Scorecard(
        name="demo",
        qualify_at=55,
        disqualify_below=10,
        half_life="P30D",
        max_points=100,
        groups=[
            ScoreGroup(
                name="fit",
                max_points=60,
                rules=[
                    ScoreRule(
                        name="core_market",
                        points=20,
                        criteria=field("country").isin(["DE", "AT", "CH", "FR", "NL", "US"]),
                    ),
                    ScoreRule(name="mid_size", points=15, criteria=field("company_size").ge(50)),
                    ScoreRule(name="large", points=15, criteria=field("company_size").ge(250)),
                    ScoreRule(
                        name="target_industry",
                        points=10,
                        criteria=field("industry").isin(["retail", "hospitality", "logistics"]),
                    ),
                    ScoreRule(
                        name="projects",
                        points=10,
                        criteria=field("product_interest").contains("projects"),
                    ),
                    ScoreRule(name="tiny", points=-10, criteria=field("company_size").lt(10)),
                ],
            ),
            ScoreGroup(
                name="engagement",
                max_points=50,
                rules=[
                    ScoreRule(
                        name="pricing_page",
                        points=15,
                        subject="engagement",
                        criteria=field("kind").eq("page_view") & field("detail").eq("/pricing"),
                        max_count=2,
                    ),
                    ScoreRule(
                        name="webinar",
                        points=20,
                        subject="engagement",
                        criteria=field("kind").eq("webinar_attended"),
                    ),
                    ScoreRule(
                        name="asked_for_prices",
                        points=25,
                        subject="engagement",
                        criteria=field("kind").eq("pricing_request"),
                    ),
                    ScoreRule(
                        name="email_open",
                        points=3,
                        subject="engagement",
                        criteria=field("kind").eq("email_open"),
                        max_count=None,
                    ),
                ],
            ),
        ],
    )


def _follow_up_rules() -> FollowUpRules:
    return FollowUpRules(
        rules=[
            FollowUpRule(
                key="reorder-call",
                kind=FollowUpKind.BEFORE_OCCURRENCE,
                days=3,
                subject="Call {account} before the order of {date}",
            ),
            FollowUpRule(
                key="we-miss-you",
                kind=FollowUpKind.NO_ORDER_SINCE,
                days=365,
                action=FollowUpAction.TASK_AND_EMAIL,
                subject="{account} has not ordered for {days} days",
            ),
            FollowUpRule(
                key="idle-deal",
                kind=FollowUpKind.OPPORTUNITY_IDLE,
                days=45,
                subject="No activity on {record} for {days} days",
            ),
        ]
    )
