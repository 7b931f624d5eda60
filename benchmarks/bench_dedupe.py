"""Benchmark: finding duplicate contacts with blocking vs comparing every pair.

Generates ``--contacts`` contacts (seeded) at generated accounts in twelve countries:
names from per-country lists of common names and a long tail built from name parts (as
real surname frequencies have), company names with their country's legal forms, emails
at the company's domain, E.164 phones, a fifth of the contacts giving the company's
switchboard number. About 12 % are duplicates of another contact, entered again with
realistic differences: a typo or a dropped accent in the name, first and last name
swapped, the company written with another legal suffix, case, punctuation or "&" for
"und"/"and", the same email (sometimes in capitals) or a private one, the same phone or
none.

Then, with the default rules (same email; same phone and a similar last name; similar
name at a similar company):

* **pairwise** (``find_duplicates(..., blocking=False)``, the same rule evaluation on
  every pair) runs on a ``--sample`` of contacts generated the same way with the next
  seed — a sample of its own, so that its duplicates are in it (a random 5k slice of
  100k holds few whole pairs) — and its time is extrapolated quadratically to
  ``--contacts`` (the output says so);
* **blocking** (``find_duplicates``) runs on the same sample — its pairs, rules and
  scores must be exactly the pairwise ones: the share it finds is the recall of
  blocking — and then on all ``--contacts``.

Prints both times, the speed-up (goal: >= 100x), the recall on the sample, and how many
pairs and clusters were found, with the rules that found them.

    python benchmarks/bench_dedupe.py [--contacts N] [--sample N] [--seed N] [--quick]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sfakit.model import Account, AccountId, Contact, ContactId
from sfakit.qualification.dedupe import DEFAULT_RULES, MatchRecord, find_duplicates

T = TypeVar("T")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

COUNTRIES: dict[str, dict[str, Any]] = {
    "DE": {
        "weight": 20,
        "dial": "+49",
        "first": "Anna Lena Julia Maria Sophie Laura Lea Katharina Sabine Petra Jürgen Jörg "
        "Thomas Michael Andreas Stefan Markus Christian Tobias Lukas Jonas Felix Maximilian "
        "Sebastian Florian Matthias Björn Uwe Günther Klaus Ute Birgit Heike Anja Nicole",
        "last": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
        "Schäfer Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun "
        "Krüger Hofmann Hartmann Lange Schmitt Werner Schmitz Krause Meier Lehmann Köhler "
        "Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung "
        "Hahn Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann",
        "legal": ["GmbH", "GmbH & Co. KG", "AG", "KG", "e.K.", "UG (haftungsbeschränkt)"],
        "words": "Elektro Lichttechnik Bau Holz Metall Druck Bäckerei Brauerei Logistik "
        "Maschinenbau Gastronomie Hotel Solar Energie Handel Technik",
        "cities": "Berlin Hamburg München Köln Frankfurt Stuttgart Düsseldorf Leipzig Dresden",
    },
    "AT": {
        "weight": 5,
        "dial": "+43",
        "first": "Anna Lena Maria Sophie Lukas Tobias Florian Stefan Michael Christoph "
        "Elisabeth Johanna Katharina Markus Andreas Bernhard Wolfgang",
        "last": "Gruber Huber Bauer Wagner Müller Pichler Steiner Moser Mayer Hofer Leitner "
        "Berger Fuchs Eder Fischer Schmid Winkler Weber Schwarz Maier Schneider Reiter",
        "legal": ["GmbH", "AG", "KG", "OG", "e.U."],
        "words": "Alpen Holz Bau Tourismus Hotel Gasthof Technik Handel Licht",
        "cities": "Wien Graz Linz Salzburg Innsbruck Klagenfurt",
    },
    "CH": {
        "weight": 4,
        "dial": "+41",
        "first": "Luca Noah Leon Lara Mia Elena Nina Simon David Daniel Marco Andrea Reto "
        "Beat Ursula Ruth Peter",
        "last": "Müller Meier Schmid Keller Weber Huber Schneider Meyer Steiner Fischer "
        "Gerber Brunner Baumann Frei Zimmermann Moser Widmer Wyss Graf Roth",
        "legal": ["AG", "GmbH", "SA", "Sàrl"],
        "words": "Präzision Uhren Bank Treuhand Pharma Chemie Alpen Käserei",
        "cities": "Zürich Genf Basel Bern Lausanne Luzern",
    },
    "FR": {
        "weight": 12,
        "dial": "+33",
        "first": "Camille Léa Manon Chloé Emma Inès Sarah Louise Jade Hugo Lucas Louis "
        "Gabriel Arthur Jules Théo Nathan Raphaël Clément Antoine Étienne Hélène Amélie "
        "Céline Sébastien Jérôme François",
        "last": "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau "
        "Simon Laurent Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel "
        "Girard André Lefebvre Mercier Dupont Lambert Bonnet François Martinez Légaré",
        "legal": ["SARL", "S.A.", "SAS", "SASU", "EURL"],
        "words": "Boulangerie Lumière Éclairage Bâtiment Transports Hôtel Café Conseil "
        "Industrie Électricité Menuiserie",
        "cities": "Paris Lyon Marseille Toulouse Nice Nantes Strasbourg Bordeaux Lille",
    },
    "GB": {
        "weight": 12,
        "dial": "+44",
        "first": "Oliver George Harry Jack Jacob Charlie Thomas Oscar William James Olivia "
        "Amelia Isla Ava Emily Sophia Grace Lily Ella Jessica Charlotte Rebecca",
        "last": "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson "
        "Roberts Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis "
        "Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill Ward Morris O'Brien",
        "legal": ["Ltd", "Limited", "PLC", "Ltd."],
        "words": "Lighting Electrical Builders Hotels Logistics Consulting Engineering "
        "Bakery Brewery Systems Solutions Supplies Trading",
        "cities": "London Manchester Birmingham Leeds Glasgow Liverpool Bristol Edinburgh",
    },
    "US": {
        "weight": 15,
        "dial": "+1",
        "first": "James John Robert Michael William David Richard Joseph Thomas Mary "
        "Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Emily "
        "Ashley Brandon Tyler Kevin",
        "last": "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez "
        "Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee "
        "Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young",
        "legal": ["Inc.", "LLC", "Corp.", "Corporation", "Incorporated", "Co."],
        "words": "Lighting Electric Hospitality Logistics Solutions Systems Supply "
        "Industries Foods Motors Energy Technologies Partners Holdings",
        "cities": "New York Chicago Houston Phoenix Dallas Austin Seattle Denver Boston",
    },
    "NL": {
        "weight": 5,
        "dial": "+31",
        "first": "Daan Sem Lucas Levi Finn Emma Julia Sophie Tess Anna Sanne Lotte Bram "
        "Thijs Joost",
        "last": "Jong Jansen Vries Berg Dijk Bakker Janssen Visser Smit Meijer Boer Mulder "
        "Groot Bos Vos Peters Hendriks Leeuwen Dekker Brouwer Wit Dijkstra Smits Graaf",
        "legal": ["B.V.", "BV", "N.V.", "V.O.F."],
        "words": "Verlichting Bouw Transport Techniek Handel Bakkerij Installatie",
        "cities": "Amsterdam Rotterdam Utrecht Eindhoven Groningen Tilburg",
    },
    "ES": {
        "weight": 6,
        "dial": "+34",
        "first": "Lucía Sofía Martina María Paula Hugo Martín Pablo Alejandro Daniel "
        "Álvaro Javier José Carmen Pilar",
        "last": "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez "
        "Martín Jiménez Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez",
        "legal": ["S.L.", "S.A.", "SL", "S.L.U."],
        "words": "Iluminación Construcciones Transportes Hostelería Panadería Servicios "
        "Ingeniería Comercial",
        "cities": "Madrid Barcelona Valencia Sevilla Zaragoza Málaga Bilbao",
    },
    "IT": {
        "weight": 6,
        "dial": "+39",
        "first": "Leonardo Francesco Alessandro Lorenzo Mattia Andrea Sofia Giulia Aurora "
        "Alice Ginevra Emma Giorgia Niccolò Lucrezia",
        "last": "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco "
        "Bruno Gallo Conti De Luca Mancini Costa Giordano Rizzo Lombardi Moretti",
        "legal": ["S.p.A.", "S.r.l.", "SRL", "SpA", "S.n.c."],
        "words": "Illuminazione Costruzioni Trasporti Alberghi Panificio Servizi "
        "Ingegneria Commerciale Elettrica",
        "cities": "Roma Milano Napoli Torino Palermo Genova Bologna Firenze",
    },
    "PL": {
        "weight": 4,
        "dial": "+48",
        "first": "Zofia Julia Zuzanna Hanna Maja Jakub Antoni Jan Szymon Franciszek "
        "Łukasz Paweł Michał Małgorzata Agnieszka",
        "last": "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński "
        "Szymański Woźniak Dąbrowski Kozłowski Jankowski Mazur Wojciechowski",
        "legal": ["Sp. z o.o.", "sp. z o.o.", "S.A.", "Sp.k."],
        "words": "Oświetlenie Budownictwo Transport Usługi Handel Piekarnia Technika",
        "cities": "Warszawa Kraków Łódź Wrocław Poznań Gdańsk",
    },
    "SE": {
        "weight": 4,
        "dial": "+46",
        "first": "Alice Maja Elsa Astrid Wilma Oscar Lucas William Liam Hugo Björn Åsa "
        "Göran Sören Ingrid",
        "last": "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson "
        "Svensson Gustafsson Pettersson Jonsson Jansson Hansson Bengtsson Lindström",
        "legal": ["AB", "Aktiebolag", "HB"],
        "words": "Belysning Bygg Transport Teknik Handel Bageri Konsult Energi",
        "cities": "Stockholm Göteborg Malmö Uppsala Västerås Örebro",
    },
    "CN": {
        "weight": 7,
        "dial": "+86",
        "first": "Wei Fang Na Min Jing Li Qiang Lei Jun Yang Yong Yan Jie Tao Ming Chao",
        "last": "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He "
        "Gao Lin Luo",
        "legal": ["有限公司", "股份有限公司", "有限责任公司", "Co., Ltd."],
        "words": "华光 照明 电子 科技 贸易 建筑 物流 能源 酒店 食品 机械 光电",
        "cities": "北京 上海 广州 深圳 成都 杭州 武汉 南京",
    },
}
#: Name parts, by country: real surname frequencies have a long tail, which the most
#: common names alone would not give (100k people sharing 60 surnames are all namesakes).
NAME_PARTS: dict[str, tuple[str, str]] = {
    "DE": (
        "Ober Unter Neu Alt Stein Berg Hof Wald Brun Feld Rosen Linden Eich Kirch Mühl Sonn "
        "Winter Sommer Groß Klein Bach Buch Hage Hein Lieb Reich Schön Weiß Roth Grün",
        "mann er bauer meier huber hofer berger müller schmidt ner ling hardt brecht feld "
        "stein baum wald haus bach",
    ),
    "FR": (
        "Beau Bel Bon Char Chev Clair Fon Gir Lam Mar Mont Pel Riv Roch Vill Dur Lef Mor Gar "
        "Bois Cour Duch Fav Gauth Mich",
        "ier ard eau elle ot in ault et on and ois enne ac y eron",
    ),
    "GB": (
        "Ash Black Brad Brook Clay Cole Crom Dal Fair Gold Hart Haw Hol Kings Lang Mar Mill "
        "New Red Ros Stan Sut Thorn Wes Whit Wood",
        "ton ley ford wood field worth son man by ham ridge well stone more ing",
    ),
    "NL": (
        "Berg Boom Dijk Hout Kamp Kerk Linde Meer Molen Rijn Steen Veld Water Wit Brink Hof",
        "man s stra ink ema huis ing kens hoven dijk",
    ),
    "ES": (
        "Alvar Bland Carr Cast Fern Gall Gonz Herr Ib Lor Marq Nav Ort Pard Quint Ramir "
        "Sandov Toled Valv Zamor",
        "ez ado ero ano illo eda ón ales ino ega",
    ),
    "IT": (
        "Bell Bianc Cald Cap Castell Coll Ferr Gall Giann Lomb Mart Mont Pell Ross Sant "
        "Serr Vent Vill",
        "ini etti elli ucci one ari oni otti ino esi",
    ),
    "PL": (
        "Bor Dąb Grab Jabł Kaczm Kam Krzyż Lis Mal Now Piotr Sobcz Szczep Wieczor Zaj Zał",
        "owski ewski czyk ak ek iński ecki ewicz ik",
    ),
    "SE": (
        "Berg Björk Dahl Ek Fors Hag Holm Lind Lund Sand Sjö Ström Wall Al Nord",
        "ström berg gren qvist lund man dahl sten blad",
    ),
    "CN": (
        "Wei Fang Na Min Jing Li Qiang Lei Jun Yang Yong Yan Jie Tao Ming Chao Xiu Hui Lan "
        "Ping Hong Ying Xin Yu Hao Zhi",
        "wei fang na min jing li qiang lei jun yang yong yan jie tao ming chao xiu hui lan "
        "ping hong ying xin yu hao zhi",
    ),
}
NAME_PARTS["AT"] = NAME_PARTS["CH"] = NAME_PARTS["DE"]
NAME_PARTS["US"] = NAME_PARTS["GB"]

GENERIC = [
    "Nordic",
    "Blue",
    "Alpine",
    "Bright",
    "Golden",
    "Silver",
    "Green",
    "Royal",
    "Central",
    "United",
    "Global",
    "Prime",
    "Smart",
    "Star",
    "North",
    "South",
    "East",
    "West",
    "Metro",
    "Urban",
    "Rapid",
    "Future",
    "Classic",
    "Modern",
    "Crystal",
    "Sun",
    "Moon",
    "River",
    "Lake",
    "Mountain",
    "Ocean",
    "Eagle",
    "Falcon",
    "Lion",
    "Tiger",
    "Phoenix",
    "Atlas",
    "Apex",
    "Vertex",
    "Summit",
    "Horizon",
    "Pioneer",
    "Liberty",
    "Heritage",
    "Premier",
    "Elite",
    "Pinnacle",
    "Quantum",
    "Fusion",
]
PRIVATE_MAIL = ("gmail.com", "web.de", "gmx.net", "outlook.com", "yahoo.com", "orange.fr")


def _ascii(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text)
    out = "".join(c for c in folded if c.isascii() and (c.isalnum() or c in " -."))
    return out.lower().replace(" ", "").replace("'", "") or "x"


class Generator:
    """Seeded contacts, accounts and duplicates with realistic differences."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.countries = list(COUNTRIES)
        self.weights = [int(COUNTRIES[c]["weight"]) for c in self.countries]
        self.accounts: list[Account] = []
        self.by_id: dict[str, Account] = {}
        self.domains: dict[str, str] = {}
        self.switchboards: dict[str, str] = {}
        self.serial = 0

    def _id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}_{self.serial:07d}"

    def _list(self, country: str, key: str) -> list[str]:
        return str(COUNTRIES[country][key]).split()

    def surname(self, country: str) -> str:
        rng = self.rng
        if country == "CN" or rng.random() < 0.35:  # Chinese surnames are few and shared
            last = rng.choice(self._list(country, "last"))
        else:
            heads, tails = NAME_PARTS[country]
            last = rng.choice(heads.split()) + rng.choice(tails.split())
        if country == "NL" and rng.random() < 0.3:
            last = rng.choice(("de", "van", "van den", "van der")) + " " + last
        return last

    def given_name(self, country: str) -> str:
        rng = self.rng
        if country == "CN" and rng.random() < 0.6:
            heads, tails = NAME_PARTS[country]
            return rng.choice(heads.split()) + rng.choice(tails.split())
        first = rng.choice(self._list(country, "first"))
        if country in ("DE", "FR") and rng.random() < 0.1:  # Anna-Lena, Jean-Pierre
            first += "-" + rng.choice(self._list(country, "first"))
        return first

    def _phone(self, country: str) -> str:
        return f"{COUNTRIES[country]['dial']}{self.rng.randrange(10**8, 10**10)}"

    def company_name(self, country: str) -> str:
        rng = self.rng
        words = self._list(country, "words")
        legal: str = rng.choice(COUNTRIES[country]["legal"])
        if country == "CN":
            core = rng.choice(self._list(country, "cities")) + "".join(rng.sample(words, 2))
            return core + legal if not legal.startswith("Co") else f"{core} {legal}"
        shape = rng.random()
        if shape < 0.4:
            core = f"{self.surname(country)} {rng.choice(words)}"
        elif shape < 0.55:
            core = f"{self.surname(country)} & {self.surname(country)}"
        elif shape < 0.75:
            core = f"{rng.choice(GENERIC)} {rng.choice(words)}"
        else:
            core = f"{rng.choice(GENERIC)} {rng.choice(GENERIC)} {rng.choice(words)}"
        return f"{core} {legal}"

    def account(self, country: str, name: str | None = None) -> Account:
        account = Account(
            id=AccountId(self._id("acct")),
            name=name or self.company_name(country),
            billing_country=country,
            billing_city=self.rng.choice(self._list(country, "cities")),
            created_at=T0,
        )
        self.accounts.append(account)
        self.by_id[account.id] = account
        self.domains[account.id] = _ascii(account.name.split()[0]) + f"{self.serial}.com"
        self.switchboards[account.id] = self._phone(country)
        return account

    def contact(self, account: Account) -> Contact:
        rng = self.rng
        country = account.billing_country or "DE"
        first = self.given_name(country)
        last = self.surname(country)
        email = f"{_ascii(first)}.{_ascii(last)}@{self.domains[account.id]}"
        phone = self.switchboards[account.id] if rng.random() < 0.2 else self._phone(country)
        return Contact(
            id=ContactId(self._id("cont")),
            account_id=account.id,
            first_name=first,
            last_name=last,
            emails=(email,),
            phones=(phone,) if rng.random() < 0.9 else (),
            created_at=T0,
        )

    # -- the differences a second entry of the same person has -------------------------

    def typo(self, word: str) -> str:
        rng = self.rng
        if len(word) < 3:
            return word
        i = rng.randrange(1, len(word) - 1)
        kind = rng.random()
        if kind < 0.25:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swap
        if kind < 0.5:
            return word[:i] + word[i + 1 :]  # drop
        if kind < 0.75:
            return word[:i] + word[i] + word[i:]  # double
        return word[:i] + rng.choice("aeiounrst") + word[i + 1 :]  # replace

    def unaccent(self, word: str) -> str:
        table = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "á": "a"}
        if self.rng.random() < 0.5:
            return "".join(table.get(c, c) for c in word)
        return _ascii(word).capitalize() if word.isascii() is False else word

    def company_variant(self, name: str, country: str) -> str:
        rng = self.rng
        legal_forms: list[str] = sorted(COUNTRIES[country]["legal"], key=len, reverse=True)
        core = name
        for form in legal_forms:
            if name.endswith(form):
                core = name[: -len(form)].rstrip()
                break
        choice = rng.random()
        if choice < 0.3:
            core = core.upper()
        elif choice < 0.45:
            core = core.replace("&", rng.choice(("und", "and", "+")))
        elif choice < 0.6 and len(core) > 6:
            parts = core.split()
            j = rng.randrange(len(parts))
            parts[j] = self.typo(parts[j])
            core = " ".join(parts)
        elif choice < 0.7:
            core = core.replace(" ", "-", 1)
        suffix = rng.choice([*legal_forms, ""])
        return f"{core} {suffix}".strip() if country != "CN" else core + suffix

    def duplicate(self, original: Contact) -> Contact:
        rng = self.rng
        account = self.by_id[original.account_id]  # type: ignore[index]
        country = account.billing_country or "DE"
        first, last = original.first_name or "", original.last_name
        change = rng.random()
        if change < 0.3:
            last = self.typo(last)
        elif change < 0.45:
            first = self.typo(first)
        elif change < 0.6:
            last = self.unaccent(last)
        elif change < 0.68:
            first, last = last, first
        elif change < 0.75:
            first, last = first.upper(), last.upper()
        if rng.random() < 0.5:
            target = account
        else:
            target = self.account(country, self.company_variant(account.name, country))
        mail = rng.random()
        if mail < 0.45:
            emails = original.emails
        elif mail < 0.55:
            emails = tuple(e.upper() for e in original.emails)
        else:
            emails = (f"{_ascii(first)}{rng.randrange(100)}@{rng.choice(PRIVATE_MAIL)}",)
        tel = rng.random()
        phones = original.phones if tel < 0.4 else () if tel < 0.7 else (self._phone(country),)
        return Contact(
            id=ContactId(self._id("cont")),
            account_id=target.id,
            first_name=first or None,
            last_name=last or "X",
            emails=emails,
            phones=phones,
            created_at=T0,
        )

    def records(self, count: int, duplicate_share: float = 0.12) -> list[MatchRecord]:
        rng = self.rng
        pool = [
            self.account(rng.choices(self.countries, self.weights)[0])
            for _ in range(max(1, count * 2 // 7))
        ]
        contacts: list[Contact] = []
        while len(contacts) < count:
            if contacts and rng.random() < duplicate_share:
                contacts.append(self.duplicate(rng.choice(contacts)))
            else:
                contacts.append(self.contact(rng.choice(pool)))
        records = [
            MatchRecord.from_contact(c, account=self.by_id[c.account_id])  # type: ignore[index]
            for c in contacts
        ]
        rng.shuffle(records)
        return records


def timed(label: str, fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.2f} s")
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="20k contacts, 2k sample")
    args = parser.parse_args()
    if args.quick:
        args.contacts, args.sample = 20_000, 2_000
    print(f"generating {args.contacts} contacts (seed {args.seed}) ...")
    records = Generator(args.seed).records(args.contacts)
    sample = Generator(args.seed + 1).records(args.sample)
    print(f"rules: {', '.join(DEFAULT_RULES.names())}")

    print(f"sample: {len(sample)} contacts generated the same way (seed {args.seed + 1}):")
    pairwise, t_pairwise = timed(
        "pairwise (every pair)", lambda: find_duplicates(sample, blocking=False)
    )
    blocked, t_sample = timed("blocking", lambda: find_duplicates(sample))
    print(f"  speed-up on the sample: {t_pairwise / t_sample:.0f}x")
    expected, got = pairwise.pair_ids(), blocked.pair_ids()
    recall = len(expected & got) / len(expected) if expected else 1.0
    print(
        f"  pairs: pairwise {len(expected)}, blocking {len(got)}; recall of blocking "
        f"{recall:.2%}, pairs blocking found that pairwise did not: {len(got - expected)}"
    )
    assert got == expected, "blocking must find exactly the pairs of the pairwise comparison"
    assert blocked.pairs == pairwise.pairs, "same pairs, same rules, same scores"

    print(f"all {len(records)} contacts:")
    full, t_full = timed("blocking", lambda: find_duplicates(records))
    scale = (len(records) / len(sample)) ** 2
    t_pairwise_full = t_pairwise * scale
    print(
        f"  pairwise, extrapolated from the sample (x{scale:.0f}, quadratic): "
        f"{t_pairwise_full:.0f} s"
    )
    stats = full.stats
    print(
        f"  compared {stats.compared} of {stats.all_pairs} pairs "
        f"({stats.compared / max(stats.all_pairs, 1):.5%}); found {stats.pairs} pairs in "
        f"{len(full.clusters)} clusters"
    )
    print("  pairs by rule: " + ", ".join(f"{c.rule} {c.pairs}" for c in stats.by_rule))
    sizes = Counter(len(c) for c in full.clusters)
    print("  cluster sizes: " + ", ".join(f"{k}: {v}" for k, v in sorted(sizes.items())))
    print(f"speed-up of blocking over pairwise at {len(records)}: {t_pairwise_full / t_full:.0f}x")
    print(f"recall of blocking vs pairwise on the sample: {recall:.2%}")


if __name__ == "__main__":
    main()
