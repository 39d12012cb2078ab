"""The fixed world the synthetic data set is drawn from: municipalities, targets, suppliers, source systems.

Everything here depends on the seed only (never on the scale or the years asked for), so a municipality keeps
its suppliers and its source-system dialect whatever is generated around it.
"""

import csv
import dataclasses
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from assets.readers.layouts import INVOICE_COLUMNS, LAYOUTS, ORDER_COLUMNS, map_header

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "pipelines" / "reference_data"

# Approximate population (thousands, 2021) in the order of kommuner.csv; sizes only need to be roughly right.
POPULATION = {
    "0101": 644, "0147": 104, "0151": 48.5, "0153": 35, "0155": 14.5, "0157": 75, "0159": 69.5, "0161": 23.5,
    "0163": 29, "0165": 28, "0167": 53.5, "0169": 51, "0173": 56, "0175": 40.5, "0183": 23, "0185": 43,
    "0187": 16.5, "0190": 41, "0201": 26, "0210": 41, "0217": 63, "0219": 51.5, "0223": 25, "0230": 56.5,
    "0240": 43.5, "0250": 45.5, "0253": 50.5, "0259": 61, "0260": 31.5, "0265": 88, "0269": 23, "0270": 41.5,
    "0306": 33, "0316": 72, "0320": 36.5, "0326": 48.5, "0329": 35.5, "0330": 79, "0336": 22.5, "0340": 30,
    "0350": 28.5, "0360": 41, "0370": 83, "0376": 60.5, "0390": 45.5, "0400": 39.5, "0410": 39, "0420": 41,
    "0430": 51.5, "0440": 24, "0450": 32, "0461": 205, "0479": 58.5, "0480": 29.5, "0482": 12.5, "0492": 6,
    "0510": 55.5, "0530": 26.5, "0540": 74, "0550": 37, "0561": 116, "0563": 3.5, "0573": 50, "0575": 42.5,
    "0580": 58.5, "0607": 51.5, "0615": 90, "0621": 93.5, "0630": 117, "0657": 89, "0661": 59, "0665": 19.5,
    "0671": 20.5, "0706": 43, "0707": 37, "0710": 48.5, "0727": 23, "0730": 98, "0740": 95, "0741": 3.7,
    "0746": 62.5, "0751": 350, "0756": 41.5, "0760": 56.5, "0766": 47, "0773": 20, "0779": 46, "0787": 43,
    "0791": 97, "0810": 36, "0813": 59, "0820": 36.5, "0825": 1.8, "0840": 30.5, "0846": 42, "0849": 38.5,
    "0851": 219, "0860": 64.5,
}  # fmt: skip
# Invoice volume grows less than proportionally with size: pop**0.68 gives København ~5.5% (~600,000 invoices).
SIZE_EXPONENT = 0.68

# Fixed whatever the seed (the brief: which five do not take part is stable).
INVOICES_ONLY = ("0155", "0492")  # deliver invoices but no orders: not participating
NOTHING = ("0563", "0741", "0825")  # deliver nothing
BAD_ROWS_KOMMUNE = "0461"  # Odense carries the deliberately bad rows every year
DUPLICATE_XML_KOMMUNE = "0440"  # Kerteminde: one invoice a year delivered both as CSV and as XML
RISING_KOMMUNE = "0159"  # Gladsaxe: its e-handel share rises every year


@dataclass(frozen=True)
class YearTarget:
    """National figures at scale 1.0 over the participating municipalities (the seed's infographic)."""

    share_spend: float
    share_purchases: float
    ehandel_spend_bn: float  # national e-handel goods spend, bn kr.
    food_purchases: int  # Fødevarer e-handel purchases
    fakturamatch: float


FOOD_SHARE_OF_EHANDEL_PURCHASES = 0.62  # Fødevarer invoices among e-handel purchases
FOOD_SHARE_OF_EHANDEL_SPEND = {2020: 2.3 / 2.875, 2021: 2.4 / 3.00725}  # 2.3 / 2.4 bn; other years 0.8
SERVICE_INVOICES_PER_PURCHASE = 0.24  # invoices with no goods line
CREDIT_NOTES_PER_INVOICE = 0.03

# 2020/2021 are the seed's; e-handel spend grows 25% into 2020 and 4.6% into 2021 (like-for-like).
TARGETS = {
    2017: YearTarget(0.070, 0.145, 1.70, 760_000, 0.60),
    2018: YearTarget(0.082, 0.165, 1.95, 870_000, 0.62),
    2019: YearTarget(0.096, 0.185, 2.30, 980_000, 0.64),
    2020: YearTarget(0.113, 0.205, 2.875, 1_096_000, 0.65),
    2021: YearTarget(0.127, 0.223, 2.875 * 1.046, 1_196_000, 0.66),
    2022: YearTarget(0.135, 0.235, 2.875 * 1.046 * 1.05, 1_270_000, 0.67),
}


def year_target(year: int) -> YearTarget:
    """Targets outside 2017-2022 repeat the nearest year's."""
    return TARGETS[min(max(year, min(TARGETS)), max(TARGETS))]


def food_share_of_spend(year: int) -> float:
    return FOOD_SHARE_OF_EHANDEL_SPEND.get(year, 0.80)


# --- reference tables ---------------------------------------------------------------------------------


def read_reference(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


FOOD = "Fødevarer"
# Art code of a goods category when the line carries one (METHODS 2/3: 2.2 food, 2.3 fuel, 2.7 assets).
CATEGORY_ART = {FOOD: "2.2", "Brændstof og energi": "2.3", "Møbler og inventar": "2.7", "IT og telefoni": "2.7",
                "Maskiner og udstyr": "2.7", "Køretøjer og transportudstyr": "2.7"}  # fmt: skip
SERVICE_ARTS = ("4.0", "4.5", "4.9", "4.9", "4.9")

DESCRIPTIONS = {
    FOOD: ["Mælk, let 1,5% 1 l", "Rugbrød, skiver", "Kaffe, øko 1 kg", "Æbler, danske", "Smør 250 g",
           "Hakket oksekød 8-12%", "Pasta, fuldkorn", "Yoghurt naturel", "Gulerødder 10 kg", "Ost 45+ skiver",
           "Havregryn 1 kg", "Kartofler 25 kg", "Rødbeder, syltede", "Æg, skrabe 30 stk", "Frisk fisk – torsk"],
    "IT og telefoni": ["Mus, trådløs", "Tastatur DK", "USB-C kabel 2 m", "Skærm 24\"", "Headset", "Toner sort"],
    "Kontorartikler og papir": ["Kopipapir A4 80 g", "Kuglepen blå", "Ringbind A4", "Post-it 76x76",
                                "Kuverter C5", "Hæftemaskine"],
    "Rengøring og hygiejne": ["Håndsæbe 1 l", "Toiletpapir 64 rl", "Engangshandsker, nitril", "Gulvsæbe",
                              "Affaldssække 60 l", "Håndklædeark"],
    "Sundhed, medicin og hjælpemidler": ["Plaster, assorteret", "Bleer, voksen", "Kompresser", "Rollator",
                                         "Desinfektion 500 ml"],
    "Møbler og inventar": ["Kontorstol", "Hæve-sænkebord", "Reol, hvid", "Stabelstol"],
    "Legetøj, undervisning og fritid": ["Modellervoks", "Farveblyanter 24 stk", "Bold, str. 4", "Lego Duplo",
                                        "Karton, farvet"],
    "Byggematerialer, værktøj og el": ["Skruer 4x40", "LED-pære E27", "Maling, hvid 10 l", "Boremaskine",
                                       "Kabelbinder"],
    "Brændstof og energi": ["Diesel", "Fyringsolie", "Træpiller 16 kg"],
    "Køretøjer og transportudstyr": ["Vinterdæk", "Cykel, 7 gear", "Bilbatteri"],
    "Maskiner og udstyr": ["Opvaskemaskine, industri", "Plæneklipper", "Højtryksrenser"],
    "Laboratorie- og måleudstyr": ["Termometer", "Vægt, digital"],
    "Øvrige varer": ["Blomster", "Gavekort", "Diverse\nefter aftale", "Planter, stauder"],
}  # fmt: skip
SERVICE_DESCRIPTIONS = [
    "Konsulentbistand",
    "Rengøring, måned",
    "Kursusafgift",
    "Håndværkerydelser",
    "Vikar, timer",
    "Licens, årlig",
    "Vedligehold – service",
    "Transport af borgere",
]
CATERING_DESCRIPTION = "Forplejning, møde"  # art 4.9 with a food UNSPSC: not goods
FREIGHT_DESCRIPTION = "Fragt"
UNCLASSIFIED_DESCRIPTIONS = ["Gebyr", "Pant/emballage", "Ekspeditionsgebyr", "Diverse"]
SERVICE_UNSPSC_SEGMENTS = (72, 76, 78, 80, 81, 85, 86, 90)
FREIGHT_UNSPSC = 78102200


@dataclass(frozen=True)
class Categories:
    names: tuple[str, ...]  # goods categories; index 0 is Fødevarer
    segments: tuple[tuple[int, ...], ...]  # UNSPSC segments of each category

    @classmethod
    def load(cls) -> "Categories":
        by_category: dict[str, list[int]] = {}
        for row in read_reference("unspsc_segmenter"):
            if row["varekoeb"] == "ja":
                by_category.setdefault(row["indkoebskategori"], []).append(int(row["segment"]))
        names = [FOOD, *sorted(c for c in by_category if c != FOOD)]
        return cls(tuple(names), tuple(tuple(by_category[c]) for c in names))

    def art(self, index: int) -> str:
        return CATEGORY_ART.get(self.names[index], "2.9")


# --- suppliers -------------------------------------------------------------------------------------------

# Supplier pools: (pool, number of suppliers, DB07 codes, goods categories they mainly sell or None = services)
FOOD_WHOLESALE, FOOD_MAKERS, GOODS_WHOLESALE, GOODS_RETAIL, GOODS_OTHER, SERVICES = range(6)
POOLS = (
    (FOOD_WHOLESALE, 30, ("463900", "463100", "463300", "463200", "463700", "463800"), (FOOD,)),
    (FOOD_MAKERS, 25, ("107100", "105100", "101300", "103900", "108200"), (FOOD,)),
    (GOODS_WHOLESALE, 160, ("466600", "464690", "464400", "465100", "467300", "466900", "464900", "464200",
                            "464700", "465200"), None),
    (GOODS_RETAIL, 110, ("471100", "475200", "476500", "474100", "476200", "477800", "477400"), None),
    (GOODS_OTHER, 90, ("171200", "310100", "329900", "451100", "352300", "282900", "222200"), None),
    (SERVICES, 600, ("620100", "692000", "702200", "711200", "731100", "782000", "801000", "812100", "821100",
                     "432100", "493900", "562900", "855900", "869000", "881000", "412000", "381100"), ()),
)  # fmt: skip
POOL_NAMES = {
    FOOD_WHOLESALE: ["Fødevareengros", "Frugt & Grønt", "Storkøkkenforsyning", "Food Service", "Kolonial"],
    FOOD_MAKERS: ["Mejeri", "Bageri", "Slagteri", "Fiskeindustri", "Mølle"],
    GOODS_WHOLESALE: [
        "Kontorforsyning",
        "Hospitalsartikler",
        "Rengøringsartikler",
        "IT-Distribution",
        "Byggeengros",
        "Institutionsindkøb",
        "Skoleforsyning",
    ],
    GOODS_RETAIL: ["Byggecenter", "Legetøj", "Elektronik", "Papirhandel", "Boligudstyr"],
    GOODS_OTHER: ["Papirfabrik", "Møbelfabrik", "Hjælpemidler", "Auto", "Energi", "Maskinfabrik"],
    SERVICES: [
        "Rådgivning",
        "Revision",
        "Vikarservice",
        "Transport",
        "Kantineservice",
        "Rengøring",
        "Ingeniørfirma",
        "VVS",
        "El-installation",
        "Kursuscenter",
    ],
}
NAME_PREFIXES = [
    "Nordisk",
    "Dansk",
    "Jysk",
    "Fynsk",
    "Sjællands",
    "Østjysk",
    "Vestjysk",
    "Bornholms",
    "Midtjysk",
    "Sønderjysk",
    "Øresund",
    "Limfjord",
    "Skagen",
    "Søndergaard",
    "Kjær",
    "Ærø",
    "Møller",
    "Bøgelund",
    "Lærkegaard",
    "Hansen",
    "Nørgaard",
    "Åbjerg",
    "Holm",
    "Krogh",
]
NAME_SUFFIXES = ["A/S", "ApS", "A/S", "ApS", "I/S", "& Co. A/S", "– Engros ApS", "K/S"]
UNKNOWN_SUPPLIERS = 8  # CVRs used on a few non-e-handel invoices but missing from the register


def cvr_numbers(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct 8-digit CVR numbers that pass the modulus-11 check of real CVR numbers."""
    weights = np.array([2, 7, 6, 5, 4, 3, 2])
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        digits = rng.integers(0, 10, size=7)
        digits[0] = rng.integers(1, 5)
        check = (11 - int(digits @ weights) % 11) % 11
        if check == 10:
            continue
        number = "".join(map(str, digits)) + str(check)
        if number not in seen:
            seen.add(number)
            out.append(number)
    return out


@dataclass
class Suppliers:
    cvr: list[str]
    name: list[str]
    branchekode: list[str]
    pool: np.ndarray  # pool id per supplier
    category: np.ndarray  # main goods category index (-1 for service suppliers)
    number_style: np.ndarray  # 0..2: how the supplier numbers its invoices
    in_register: np.ndarray  # bool
    popularity: np.ndarray  # relative weight within its pool

    @classmethod
    def build(cls, seed: int, categories: Categories) -> "Suppliers":
        rng = np.random.default_rng([seed, 1])
        rows: list[tuple[str, str, int, int]] = []  # name, branchekode, pool, category
        nonfood = list(range(1, len(categories.names)))
        for pool, count, codes, sells in POOLS:
            for i in range(count):
                core = POOL_NAMES[pool][i % len(POOL_NAMES[pool])]
                prefix = NAME_PREFIXES[int(rng.integers(len(NAME_PREFIXES)))]
                suffix = NAME_SUFFIXES[int(rng.integers(len(NAME_SUFFIXES)))]
                name = (
                    f"{prefix} {core} {suffix}"
                    if i < len(NAME_PREFIXES) * 2
                    else f"{prefix} {core} {i} {suffix}"
                )
                # a goods supplier sells mainly one category; food pools food; services none
                category = nonfood[int(rng.integers(len(nonfood)))] if sells is None else (0 if sells else -1)
                rows.append((name, codes[i % len(codes)], pool, category))
        unknown = [(f"Ukendt Leverandør {i + 1} ApS", "", GOODS_OTHER, 1 + i % len(nonfood))
                   for i in range(UNKNOWN_SUPPLIERS)]  # fmt: skip
        rows += unknown
        n = len(rows)
        pool = np.array([r[2] for r in rows])
        popularity = np.empty(n)
        for p in np.unique(pool):
            members = np.flatnonzero(pool == p)
            popularity[members] = 1.0 / (np.arange(len(members)) + 1.0) ** 0.9
        return cls(
            cvr=cvr_numbers(rng, n),
            name=[r[0] for r in rows],
            branchekode=[r[1] for r in rows],
            pool=pool,
            category=np.array([r[3] for r in rows]),
            number_style=rng.integers(0, 3, size=n),
            in_register=np.array([i < n - UNKNOWN_SUPPLIERS for i in range(n)]),
            popularity=popularity,
        )

    def members(self, pool: int, nonfood_only: bool = False) -> np.ndarray:
        mask = (self.pool == pool) & self.in_register
        if nonfood_only:
            mask &= self.category > 0
        return np.flatnonzero(mask)

    @cached_property
    def unknown(self) -> np.ndarray:
        return np.flatnonzero(~self.in_register)


# --- source-system dialects ------------------------------------------------------------------------------

# Header spellings of the canonical columns (each normalises to the canonical name, see layouts.py).
DANISH_HEADERS = {
    "kommunekode": "Kommunekode", "fakturanummer": "Fakturanummer", "dokumenttype": "Dokumenttype",
    "fakturadato": "Fakturadato", "leverandoer_cvr": "Leverandør CVR", "leverandoer_navn": "Leverandør navn",
    "ean": "EAN", "ordrenummer": "Ordrenummer", "krediteret_fakturanummer": "Krediteret fakturanummer",
    "linjenummer": "Linjenummer", "varebeskrivelse": "Varebeskrivelse", "unspsc": "UNSPSC", "art": "Art",
    "beloeb": "Beløb", "valuta": "Valuta", "ordrelinje": "Ordrelinje", "ordredato": "Ordredato",
    "varenummer": "Varenummer", "antal": "Antal", "ordretype": "Ordretype", "aftalenummer": "Aftalenummer",
}  # fmt: skip
# Pretty spellings of source-system aliases; an alias without one is written as exported (snake case).
LAYOUT_HEADERS = {
    "kommunenr": "Kommunenr", "bilagsnummer": "Bilagsnummer", "bilagstype": "Bilagstype", "bilagsdato": "Bilagsdato",
    "kreditor_cvr": "Kreditor CVR", "kreditornavn": "Kreditornavn", "ean_lokationsnummer": "EAN-lokationsnummer",
    "indkoebsordre": "Indkøbsordre", "krediteret_bilag": "Krediteret bilag", "bilagslinje": "Bilagslinje",
    "linjetekst": "Linjetekst", "unspsc_kode": "UNSPSC-kode", "artskonto": "Artskonto",
    "beloeb_ekskl_moms": "Beløb ekskl. moms", "valutakode": "Valutakode", "kommune": "Kommune",
    "fakturanr": "FakturaNr", "type": "Type", "dato": "Dato", "cvr_nr": "CVR-nr.", "leverandoer": "Leverandør",
    "gln": "GLN", "ordrenr": "OrdreNr", "krediteret_fakturanr": "Krediteret FakturaNr", "linjenr": "LinjeNr",
    "beskrivelse": "Beskrivelse", "varekode_unspsc": "Varekode (UNSPSC)", "art_kode": "Art-kode",
    "nettobeloeb": "Nettobeløb", "valuta_kode": "Valuta-kode", "ordrelinjenummer": "Ordrelinjenummer",
    "bestillingsdato": "Bestillingsdato", "varenr": "Varenr.", "varetekst": "Varetekst", "maengde": "Mængde",
    "ordrekanal": "Ordrekanal", "aftale": "Aftale", "ordre_id": "Ordre ID", "linje_id": "Linje ID",
    "oprettet": "Oprettet", "leverandoer_cvr_nr": "Leverandør CVR-nr", "produktnavn": "Produktnavn",
    "stk": "Stk", "linjebeloeb": "Linjebeløb", "ordretype": "Ordretype", "ski_aftale": "SKI-aftale",
    "varenummer": "Varenummer",
}  # fmt: skip

DELIMITERS = (";", ",", "\t", ";")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252")
DECIMALS = ("comma", "thousands", "dot")  # 1234,56 | 1.234,56 | 1234.56
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y")
KOMMUNEKODE_STYLES = ("4", "3", "none")
CVR_STYLES = ("plain", "DK", "DK space", "spaced")
DOCUMENT_TYPES = (("Faktura", "Kreditnota"), ("FAKTURA", "KREDITNOTA"), ("faktura", "kreditnota"),
                  ("Invoice", "CreditNote"), ("380", "381"))  # fmt: skip
CREDIT_SIGNS = (1, -1)
NEWLINES = ("\r\n", "\n")
SPLITS = ("year", "quarter", "month", "half", "year")
ART_STYLES = ("2.2", "22", "2.2.x")
CLASSIFICATION = ((0.85, 0.75), (0.97, 0.25), (0.30, 0.97), (0.7, 0.7))  # (share of lines with art, UNSPSC)
HEADER_STYLES = ("snake", "danish", "upper", "layout0", "layout1")
ORDER_NUMBER_STYLES = ("numeric", "prefixed")
ORDER_TYPE_WORDS = (("katalog", "punchout", "fritekst"), ("Katalog", "Punch-out", "Fritekst"),
                    ("KATALOG", "PUNCHOUT", "FRITEKST"))  # fmt: skip


@dataclass(frozen=True)
class Dialect:
    """How one source system writes its CSV extracts (a municipality keeps its system across years)."""

    kind: str  # invoices | orders
    header_style: str
    delimiter: str
    encoding: str
    decimals: str
    date_format: str
    kommunekode: str
    cvr_style: str
    document_types: tuple[str, str]
    credit_sign: int
    newline: str
    split: str
    art_style: str
    classification: tuple[float, float]
    order_number_style: str
    order_type_words: tuple[str, str, str]

    @cached_property
    def layout(self) -> str | None:
        if self.header_style.startswith("layout"):
            return sorted(LAYOUTS[self.kind])[int(self.header_style[-1])]
        return None

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """Canonical columns this system exports (optional ones left out by some systems)."""
        base = INVOICE_COLUMNS if self.kind == "invoices" else ORDER_COLUMNS
        drop = set()
        if self.kommunekode == "none":
            drop.add("kommunekode")
        if self.header_style == "upper":
            drop |= {"ean", "valuta", "aftalenummer"}
        return tuple(c for c in base if c not in drop)

    @cached_property
    def header(self) -> list[str]:
        """The header cells as the system writes them; checked against map_header."""
        cells = []
        aliases = {}
        if self.layout:
            aliases = {canonical: alias for alias, canonical in LAYOUTS[self.kind][self.layout].items()}
        for column in self.columns:
            if self.layout and column in aliases:
                cells.append(LAYOUT_HEADERS.get(aliases[column], aliases[column]))
            elif self.header_style == "danish" or self.layout:
                cells.append(DANISH_HEADERS.get(column, column))
            elif self.header_style == "upper":
                cells.append(DANISH_HEADERS.get(column, column).upper().replace(" ", "_"))
            else:
                cells.append(column)
        layout, mapping = map_header(self.kind, cells)
        if [mapping.get(i) for i in range(len(cells))] != list(self.columns):
            raise ValueError(f"header {cells} does not map back to {self.columns} (layout {layout})")
        return cells


def assign_dialects(seed: int, kind: str, codes: list[str]) -> dict[str, Dialect]:
    """Every value of every feature is used by some municipality: each feature cycles its values over its own
    seeded permutation of the municipalities (so features are independent of each other)."""
    rng = np.random.default_rng([seed, 2 if kind == "invoices" else 3])
    order = [codes[i] for i in rng.permutation(len(codes))]
    slots = [rng.permutation(len(codes)) for _ in range(15)]
    out = {}
    for i, code in enumerate(order):

        def pick(values, feature, i=i):
            return values[int(slots[feature][i]) % len(values)]

        dialect = Dialect(
            kind=kind,
            header_style=pick(HEADER_STYLES, 0),
            delimiter=pick(DELIMITERS, 1),
            encoding=pick(ENCODINGS, 2),
            decimals=pick(DECIMALS, 3),
            date_format=pick(DATE_FORMATS, 4),
            kommunekode="4" if code == BAD_ROWS_KOMMUNE else pick(KOMMUNEKODE_STYLES, 5),
            cvr_style=pick(CVR_STYLES, 6),
            document_types=pick(DOCUMENT_TYPES, 7),
            credit_sign=pick(CREDIT_SIGNS, 8),
            newline=pick(NEWLINES, 9),
            split=pick(SPLITS, 10),
            art_style=pick(ART_STYLES, 11),
            classification=pick(CLASSIFICATION, 12),
            order_number_style=pick(ORDER_NUMBER_STYLES, 13),
            order_type_words=pick(ORDER_TYPE_WORDS, 14),
        )
        if code == BAD_ROWS_KOMMUNE and dialect.header_style == "upper":
            dialect = dataclasses.replace(dialect, header_style="danish")  # keeps its kommunekode column
        dialect.header  # noqa: B018 - fail early when a spelling does not map back
        out[code] = dialect
    return out


# --- the world --------------------------------------------------------------------------------------------


@dataclass
class Municipality:
    code: str
    name: str
    weight: float  # share of national volume (over the participating municipalities)
    spend_factor: float  # relative goods spend per purchase
    maturity: float  # relative e-handel share
    trend: float  # yearly log growth of the relative e-handel share
    match_offset: float  # fakturamatch rate relative to the national target
    delivers_invoices: bool
    delivers_orders: bool
    food_makers: bool  # buys its e-handel food from manufacturers (DB07 10), not wholesalers (46)
    xml_share: float  # share of its invoices received as XML files
    ean: list[str]

    @property
    def participates(self) -> bool:
        return self.delivers_invoices and self.delivers_orders


def gln_numbers(rng: np.random.Generator, count: int) -> list[str]:
    """13-digit GLN (EAN) numbers in the Danish 579 range with a valid GS1 check digit."""
    out = []
    for _ in range(count):
        body = "5798" + "".join(map(str, rng.integers(0, 10, size=8)))
        total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
        out.append(body + str((10 - total % 10) % 10))
    return out


TYPICAL_NOT_WHOLESALE = (
    9  # municipalities whose e-handel food comes mostly from manufacturers (84 of 93 => 46)
)
XML_MUNICIPALITIES = 16


class World:
    def __init__(self, seed: int):
        self.seed = seed
        self.categories = Categories.load()
        self.suppliers = Suppliers.build(seed, self.categories)
        rows = read_reference("kommuner")
        codes = [r["kommunekode"] for r in rows]
        rng = np.random.default_rng([seed, 4])
        participating = [c for c in codes if c not in INVOICES_ONLY + NOTHING]
        special = {RISING_KOMMUNE, BAD_ROWS_KOMMUNE, DUPLICATE_XML_KOMMUNE, "0860"}
        candidates = [c for c in participating if c not in special]
        makers = {candidates[i] for i in rng.choice(len(candidates), TYPICAL_NOT_WHOLESALE, replace=False)}
        xml_pool = [c for c in participating if c != DUPLICATE_XML_KOMMUNE]
        xml = {xml_pool[i] for i in rng.choice(len(xml_pool), XML_MUNICIPALITIES - 1, replace=False)}
        xml.add(DUPLICATE_XML_KOMMUNE)
        sizes = {c: POPULATION[c] ** SIZE_EXPONENT for c in codes}
        total = sum(sizes[c] for c in participating)
        self.municipalities: dict[str, Municipality] = {}
        for row in rows:
            code = row["kommunekode"]
            mrng = np.random.default_rng([seed, 5, int(code)])
            maturity = float(np.exp(mrng.normal(0.0, 0.35)))
            trend = float(mrng.normal(0.0, 0.05))
            match_offset = float(mrng.normal(0.0, 0.07))
            if code == RISING_KOMMUNE:  # the seed's Gladsaxe: a rising curve, ~65% of orders matched
                maturity, trend, match_offset = 1.15, 0.12, 0.0
            self.municipalities[code] = Municipality(
                code=code,
                name=row["kommunenavn"],
                weight=sizes[code] / total,
                spend_factor=float(np.exp(mrng.normal(0.0, 0.15))),
                maturity=maturity,
                trend=trend,
                match_offset=match_offset,
                delivers_invoices=code not in NOTHING,
                delivers_orders=code not in NOTHING + INVOICES_ONLY,
                food_makers=code in makers,
                xml_share=float(mrng.uniform(0.01, 0.03)) if code in xml else 0.0,
                ean=gln_numbers(mrng, max(3, int(POPULATION[code] ** 0.6))),
            )
        self.invoice_dialects = assign_dialects(seed, "invoices", [c for c in codes if c not in NOTHING])
        self.order_dialects = assign_dialects(seed, "orders", participating)

    @cached_property
    def participating(self) -> list[str]:
        return [c for c, m in self.municipalities.items() if m.participates]

    def shares(self, year: int) -> dict[str, tuple[float, float, float]]:
        """(share of spend, share of purchases, fakturamatch rate) per municipality in a year.

        Relative maturity and trend are rescaled so that the pooled national figures (sums over the
        participating municipalities, weighted by their expected volume) equal the year's targets exactly.
        """
        target = year_target(year)
        ms = self.municipalities
        rel = {c: m.maturity * math.exp(m.trend * (year - 2019.5)) for c, m in ms.items()}

        def normalise(goal: float, weight: dict[str, float], cap: float) -> dict[str, float]:
            values = dict(rel)
            for _ in range(6):
                pooled = sum(values[c] * weight[c] for c in self.participating) / sum(
                    weight[c] for c in self.participating
                )
                values = {c: min(cap, v * goal / pooled) for c, v in values.items()}
            return values

        purchase_w = {c: m.weight for c, m in ms.items()}
        spend_w = {c: m.weight * m.spend_factor for c, m in ms.items()}
        spend = normalise(target.share_spend, spend_w, 0.45)
        purchases = normalise(target.share_purchases, purchase_w, 0.6)
        match = {c: min(0.95, max(0.3, target.fakturamatch + m.match_offset)) for c, m in ms.items()}
        ehandel_w = {c: purchase_w[c] * purchases[c] for c in ms}
        pooled = sum(match[c] * ehandel_w[c] for c in self.participating) / sum(
            ehandel_w[c] for c in self.participating
        )
        match = {c: min(0.97, v * target.fakturamatch / pooled) for c, v in match.items()}
        return {c: (spend[c], purchases[c], match[c]) for c in ms}
