"""Generate one municipality's invoices, orders and XML documents for one year, steered to the targets.

The national figures are steered, not hoped for: per municipality and year the number of purchases and of
e-handel purchases is set from the municipality's target shares (World.shares), and after the lines are drawn
the goods amounts of three groups (e-handel food, other e-handel, not e-handel; credit notes included, negative)
are rescaled to the municipality's target spend. Pooled over the country these land on the seed's figures;
what the pipeline computes still comes only from the files.
"""

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from synthetic import ubl
from synthetic.world import (
    BAD_ROWS_KOMMUNE,
    CATERING_DESCRIPTION,
    CREDIT_NOTES_PER_INVOICE,
    DESCRIPTIONS,
    DUPLICATE_XML_KOMMUNE,
    FOOD_MAKERS,
    FOOD_SHARE_OF_EHANDEL_PURCHASES,
    FOOD_WHOLESALE,
    FREIGHT_DESCRIPTION,
    FREIGHT_UNSPSC,
    GOODS_OTHER,
    GOODS_RETAIL,
    GOODS_WHOLESALE,
    SERVICE_ARTS,
    SERVICE_DESCRIPTIONS,
    SERVICE_INVOICES_PER_PURCHASE,
    SERVICE_UNSPSC_SEGMENTS,
    SERVICES,
    UNCLASSIFIED_DESCRIPTIONS,
    Dialect,
    Municipality,
    World,
    food_share_of_spend,
    year_target,
)

# Document kinds
EH_FOOD, EH_OTHER, GOODS, SERVICE, CREDIT = range(5)
# Line classes
L_GOODS, L_SERVICE, L_UNCLASSIFIED, L_FREIGHT, L_CATERING = range(5)
ART_CODES = ("", "2.2", "2.3", "2.7", "2.9", "4.0", "4.5", "4.9")
GOODS_ART = np.array([False, True, True, True, True, False, False, False])
CHUNK_ROWS = 400_000  # rows formatted and written at a time: bounds memory at any scale
PLACEHOLDERS = ("NA", "INGEN", "N/A", "-", "0", "none", "Ingen")
FIRST_NAMES = ("Hanne", "Jens", "Mette", "Søren", "Birgitte", "Ole", "Lærke", "Åse")
AGREEMENT_FOOD = "50.90"


@dataclass
class Stats:
    files: int = 0
    invoice_lines: int = 0
    order_lines: int = 0
    xml_documents: int = 0
    invoices: int = 0
    orders: int = 0

    def add(self, other: "Stats") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _art_index(code: str) -> int:
    return ART_CODES.index(code)


@dataclass
class Lines:
    """Line arrays (one entry per document line)."""

    doc: np.ndarray
    number: np.ndarray
    klass: np.ndarray
    category: np.ndarray  # goods category index, -1 when not goods
    art: np.ndarray  # index into ART_CODES (0 = none)
    unspsc: np.ndarray  # 8-digit code, 0 = none
    amount: np.ndarray  # øre, positive
    quantity: np.ndarray
    description: np.ndarray  # index into Generator.descriptions
    item: np.ndarray

    def take(self, index: np.ndarray) -> "Lines":
        return Lines(**{k: v[index] for k, v in self.__dict__.items()})

    @staticmethod
    def concat(parts: list["Lines"]) -> "Lines":
        return Lines(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in parts[0].__dict__})


@dataclass
class Docs:
    kind: np.ndarray
    supplier: np.ndarray
    date: np.ndarray  # datetime64[D]
    xml: np.ndarray
    ehandel: np.ndarray
    credited: np.ndarray  # credit notes: index of the credited invoice, else -1
    billing_ref: np.ndarray  # credit notes name the credited invoice
    own_order_ref: np.ndarray  # credit notes carry the credited invoice's order reference
    ean: np.ndarray
    first_line: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


class Generator:
    """Shared state for one run: the world, descriptions and supplier strings."""

    def __init__(self, world: World, scale: float, seed: int):
        self.world = world
        self.scale = scale
        self.seed = seed
        cats = world.categories
        self.descriptions: list[str] = []
        self.category_descriptions: list[np.ndarray] = []
        for name in cats.names:
            start = len(self.descriptions)
            self.descriptions += DESCRIPTIONS.get(name, [name])
            self.category_descriptions.append(np.arange(start, len(self.descriptions)))
        start = len(self.descriptions)
        self.descriptions += SERVICE_DESCRIPTIONS
        self.service_descriptions = np.arange(start, len(self.descriptions))
        start = len(self.descriptions)
        self.descriptions += UNCLASSIFIED_DESCRIPTIONS
        self.unclassified_descriptions = np.arange(start, len(self.descriptions))
        self.freight_description = len(self.descriptions)
        self.descriptions.append(FREIGHT_DESCRIPTION)
        self.catering_description = len(self.descriptions)
        self.descriptions.append(CATERING_DESCRIPTION)
        self.backorder_description = len(self.descriptions)
        self.descriptions.append("Restordre – ikke leveret")
        self.description_series = pl.Series(self.descriptions, dtype=pl.String)
        self.segments = [np.array(s) for s in cats.segments]
        self.category_art = np.array([_art_index(cats.art(i)) for i in range(len(cats.names))])
        goods_segment = np.zeros(100, dtype=bool)
        food_segment = np.zeros(100, dtype=bool)
        for i, segs in enumerate(cats.segments):
            goods_segment[list(segs)] = True
            if i == 0:
                food_segment[list(segs)] = True
        self.goods_segment = goods_segment
        self.food_segment = food_segment
        sup = world.suppliers
        self.cvr = sup.cvr
        self.supplier_names = pl.Series(sup.name, dtype=pl.String)
        cvr_styles = {
            "plain": sup.cvr,
            "DK": [f"DK{c}" for c in sup.cvr],
            "DK space": [f"DK {c}" for c in sup.cvr],
            "spaced": [f"{c[:2]} {c[2:4]} {c[4:6]} {c[6:]}" for c in sup.cvr],
        }
        self.cvr_series = {k: pl.Series(v, dtype=pl.String) for k, v in cvr_styles.items()}
        food = world.categories.names.index("Fødevarer")
        food_ws = sup.members(FOOD_WHOLESALE)
        self.agreement_food = set(food_ws[:4].tolist()) | set(sup.members(FOOD_MAKERS)[:1].tolist())
        self.food = food
        spend_norm = sum(world.municipalities[c].weight * world.municipalities[c].spend_factor
                         for c in world.participating)  # fmt: skip
        self.spend_norm = spend_norm

    # --- drawing ---------------------------------------------------------------------------------------

    def pool_members(self, m: Municipality, pool: int) -> tuple[np.ndarray, np.ndarray]:
        """The suppliers of a pool this municipality trades with (stable across years) and their weights."""
        sup = self.world.suppliers
        members = sup.members(pool)
        rng = np.random.default_rng([self.seed, 6, int(m.code), pool])
        keep = rng.random(len(members)) < 0.6
        keep[: min(3, len(members))] = True  # the big ones everywhere
        members = members[keep]
        weights = sup.popularity[members] * rng.uniform(0.5, 1.5, size=len(members))
        return members, weights / weights.sum()

    def draw_suppliers(self, rng, m: Municipality, pools: list[tuple[int, float]], n: int) -> np.ndarray:
        out = np.empty(n, dtype=np.int64)
        choice = rng.choice(len(pools), size=n, p=np.array([p for _, p in pools]))
        for i, (pool, _) in enumerate(pools):
            idx = np.flatnonzero(choice == i)
            if len(idx):
                members, weights = self.pool_members(m, pool)
                out[idx] = rng.choice(members, size=len(idx), p=weights)
        return out

    def draw_lines(self, rng, m: Municipality, dialect: Dialect, kind: np.ndarray, supplier: np.ndarray,
                   doc_offset: int = 0, n_lines: np.ndarray | None = None) -> tuple[Lines, np.ndarray]:  # fmt: skip
        n_docs = len(kind)
        if n_lines is None:
            mean = np.array([10.5, 2.8, 6.8, 3.0, 1.0])[kind]
            n_lines = 1 + rng.poisson(mean)
        assert n_lines is not None
        total = int(n_lines.sum())
        doc = np.repeat(np.arange(n_docs), n_lines)
        first = np.concatenate([[0], np.cumsum(n_lines)[:-1]]) if n_docs else np.zeros(0, dtype=np.int64)
        number = np.arange(total) - np.repeat(first, n_lines) + 1
        k = kind[doc]
        u = rng.random(total)
        klass = np.full(total, L_GOODS, dtype=np.int8)
        # (kind, [(class, cumulative probability)]) for lines after the first
        table = {
            EH_FOOD: [(L_FREIGHT, 0.04), (L_UNCLASSIFIED, 0.07)],
            EH_OTHER: [(L_FREIGHT, 0.03), (L_UNCLASSIFIED, 0.05)],
            GOODS: [(L_SERVICE, 0.07), (L_FREIGHT, 0.10), (L_UNCLASSIFIED, 0.15), (L_CATERING, 0.16)],
        }
        for kk, rows in table.items():
            sel = (k == kk) & (number > 1)
            lower = 0.0
            for cls, upper in rows:
                klass[sel & (u >= lower) & (u < upper)] = cls
                lower = upper
        sel = k == SERVICE
        klass[sel] = L_SERVICE
        klass[sel & (number > 1) & (u < 0.08)] = L_UNCLASSIFIED
        klass[sel & (number > 1) & (u >= 0.08) & (u < 0.16)] = L_CATERING

        goods = klass == L_GOODS
        main = self.world.suppliers.category[supplier][doc]
        n_cat = len(self.segments)
        category = np.where(goods, np.maximum(main, 0), -1)
        other = goods & (k != EH_FOOD) & (rng.random(total) < 0.12)
        category[other] = rng.integers(1, n_cat, size=int(other.sum()))
        category[goods & (k == EH_FOOD)] = 0
        category[goods & (k == EH_OTHER) & (category == 0)] = 1

        # UNSPSC codes: segment + family/class/commodity digits
        unspsc = np.zeros(total, dtype=np.int64)
        tail = rng.integers(10, 31, size=total) * 10_000 + rng.integers(15, 26, size=total) * 100
        tail += rng.integers(0, 21, size=total)
        for c in range(n_cat):
            sel = category == c
            if sel.any():
                segs = self.segments[c]
                unspsc[sel] = segs[rng.integers(0, len(segs), size=int(sel.sum()))] * 1_000_000 + tail[sel]
        sel = klass == L_SERVICE
        seg = np.array(SERVICE_UNSPSC_SEGMENTS)[rng.integers(0, len(SERVICE_UNSPSC_SEGMENTS), size=total)]
        unspsc[sel] = (seg * 1_000_000 + tail)[sel]
        unspsc[klass == L_FREIGHT] = FREIGHT_UNSPSC
        sel = klass == L_CATERING
        unspsc[sel] = (50_000_000 + tail)[sel]

        # Which lines carry an art code and which a UNSPSC code (the source system's habits)
        p_art, p_unspsc = dialect.classification
        has_art = rng.random(total) < p_art
        has_unspsc = rng.random(total) < p_unspsc
        neither = goods & ~has_art & ~has_unspsc
        has_art[neither & (p_art >= p_unspsc)] = True
        has_unspsc[neither & (p_art < p_unspsc)] = True
        art = np.zeros(total, dtype=np.int8)
        art[goods] = self.category_art[category[goods]]
        sel = klass == L_SERVICE
        art[sel] = np.array([_art_index(a) for a in SERVICE_ARTS])[
            rng.integers(0, len(SERVICE_ARTS), int(sel.sum()))
        ]
        art[(klass == L_FREIGHT) | (klass == L_CATERING)] = _art_index("4.9")
        # Services always keep their art (else a service UNSPSC decides); catering keeps both (the trap).
        has_art[(klass == L_SERVICE) | (klass == L_FREIGHT) | (klass == L_CATERING)] = True
        has_unspsc[klass == L_CATERING] = True
        art[~has_art] = 0
        unspsc[~has_unspsc] = 0
        unspsc[klass == L_UNCLASSIFIED] = 0
        art[klass == L_UNCLASSIFIED] = 0

        # Amounts (øre); rescaled to the targets later
        median = np.array([150.0, 130.0, 300.0, 900.0, 100.0])[k]
        amount = np.exp(rng.normal(np.log(median * 100), 0.9))
        amount[klass == L_SERVICE] = np.exp(
            rng.normal(np.log(90_000), 1.1, size=int((klass == L_SERVICE).sum()))
        )
        amount[klass == L_FREIGHT] = rng.integers(4_900, 15_000, size=int((klass == L_FREIGHT).sum()))
        amount[klass == L_UNCLASSIFIED] = rng.integers(
            1_000, 15_000, size=int((klass == L_UNCLASSIFIED).sum())
        )
        amount[klass == L_CATERING] = np.exp(
            rng.normal(np.log(60_000), 0.6, size=int((klass == L_CATERING).sum()))
        )
        amount = np.maximum(np.rint(amount), 100).astype(np.int64)
        quantity = np.where(goods, 1 + rng.poisson(3.0, size=total), 1)

        description = np.empty(total, dtype=np.int64)
        for c in range(n_cat):
            sel = category == c
            if sel.any():
                pool = self.category_descriptions[c]
                description[sel] = pool[rng.integers(0, len(pool), size=int(sel.sum()))]
        sel = klass == L_SERVICE
        description[sel] = self.service_descriptions[
            rng.integers(0, len(self.service_descriptions), int(sel.sum()))
        ]
        sel = klass == L_UNCLASSIFIED
        pool = self.unclassified_descriptions
        description[sel] = pool[rng.integers(0, len(pool), int(sel.sum()))]
        description[klass == L_FREIGHT] = self.freight_description
        description[klass == L_CATERING] = self.catering_description
        item = rng.integers(100_000, 999_999, size=total)
        lines = Lines(
            doc + doc_offset, number, klass, category, art, unspsc, amount, quantity, description, item
        )
        return lines, n_lines

    def to_xml_lines(self, lines: Lines, mask: np.ndarray, rng) -> None:
        """XML lines carry no art code: goods keep their goods UNSPSC, catering gets the catering service code."""
        goods = mask & (lines.klass == L_GOODS)
        lines.unspsc[goods & (lines.unspsc == 0)] = self.fill_unspsc(
            lines.category[goods & (lines.unspsc == 0)], rng
        )
        catering = mask & (lines.klass == L_CATERING)
        lines.unspsc[catering] = 90_101_500
        lines.art[mask] = 0

    def fill_unspsc(self, category: np.ndarray, rng) -> np.ndarray:
        out = np.zeros(len(category), dtype=np.int64)
        for c in np.unique(category):
            sel = category == c
            segs = self.segments[c]
            out[sel] = segs[rng.integers(0, len(segs), size=int(sel.sum()))] * 1_000_000 + 101_500
        return out

    # --- one municipality-year -------------------------------------------------------------------------

    def municipality_year(
        self, raw: Path, m: Municipality, year: int, shares: tuple[float, float, float]
    ) -> Stats:
        world = self.world
        rng = np.random.default_rng([self.seed, int(m.code), year])
        inv_dialect = world.invoice_dialects[m.code]
        ord_dialect = world.order_dialects.get(m.code)
        target = year_target(year)
        share_spend, share_purchases, match_rate = shares
        purchases_national = target.food_purchases / (
            FOOD_SHARE_OF_EHANDEL_PURCHASES * target.share_purchases
        )
        goods_spend_national = target.ehandel_spend_bn * 1e9 / target.share_spend
        n_purchases = max(3, round(purchases_national * self.scale * m.weight))
        goods_spend_ore = (
            goods_spend_national * 100 * self.scale * m.weight * m.spend_factor / self.spend_norm
        )
        n_eh = max(1, round(n_purchases * share_purchases))
        n_food = round(n_eh * FOOD_SHARE_OF_EHANDEL_PURCHASES)
        n_other = n_eh - n_food
        n_goods = n_purchases - n_eh
        n_service = round(n_purchases * SERVICE_INVOICES_PER_PURCHASE)
        n_invoices = n_purchases + n_service
        n_credit = round(n_invoices * CREDIT_NOTES_PER_INVOICE)

        # Invoices: kinds, suppliers, dates (sorted by date, numbered in that order)
        kind = np.repeat(np.array([EH_FOOD, EH_OTHER, GOODS, SERVICE]), [n_food, n_other, n_goods, n_service])
        supplier = np.empty(n_invoices, dtype=np.int64)
        food_pools = [(FOOD_MAKERS, 0.9), (FOOD_WHOLESALE, 0.1)] if m.food_makers else [
            (FOOD_WHOLESALE, 0.9), (FOOD_MAKERS, 0.1)]  # fmt: skip
        pools = {
            EH_FOOD: food_pools,
            EH_OTHER: [(GOODS_WHOLESALE, 0.78), (GOODS_RETAIL, 0.14), (GOODS_OTHER, 0.08)],
            GOODS: [(FOOD_WHOLESALE, 0.05), (FOOD_MAKERS, 0.06), (GOODS_WHOLESALE, 0.36), (GOODS_RETAIL, 0.31),
                    (GOODS_OTHER, 0.22)],
            SERVICE: [(SERVICES, 1.0)],
        }  # fmt: skip
        for kk, pool in pools.items():
            sel = np.flatnonzero(kind == kk)
            supplier[sel] = self.draw_suppliers(rng, m, pool, len(sel))
        unknown = np.flatnonzero((kind == GOODS) & (rng.random(n_invoices) < 0.003))
        if len(unknown):
            supplier[unknown] = rng.choice(world.suppliers.unknown, size=len(unknown))
        date = self.business_days(rng, year, n_invoices)
        order = np.lexsort((rng.random(n_invoices), date))
        kind, supplier, date = kind[order], supplier[order], date[order]
        lines, n_lines = self.draw_lines(rng, m, inv_dialect, kind, supplier)
        xml = rng.random(n_invoices) < m.xml_share
        self.to_xml_lines(lines, xml[lines.doc], rng)

        # Credit notes: part of one earlier invoice's lines, same supplier, same year
        credited = np.sort(rng.choice(n_invoices, size=min(n_credit, n_invoices), replace=False))
        n_credit = len(credited)
        first = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
        take = np.minimum(n_lines[credited], 1 + (rng.random(n_credit) < 0.3))
        start = (rng.random(n_credit) * (n_lines[credited] - take + 1)).astype(np.int64)
        credit_n_lines = take
        line_index = np.repeat(first[credited] + start, take) + (
            np.arange(int(take.sum())) - np.repeat(np.concatenate([[0], np.cumsum(take)[:-1]]), take)
        )
        credit_lines = lines.take(line_index)
        credit_lines.doc = np.repeat(np.arange(n_credit), take) + n_invoices
        credit_lines.number = credit_lines.number - np.repeat(start, take)
        credit_lines.amount = np.maximum(
            np.rint(credit_lines.amount * rng.uniform(0.15, 1.0, len(line_index))), 100
        )
        credit_lines.amount = credit_lines.amount.astype(np.int64)
        credit_date = np.minimum(date[credited] + rng.integers(2, 46, n_credit).astype("timedelta64[D]"),
                                 np.datetime64(f"{year}-12-31"))  # fmt: skip
        credited_eh = kind[credited] <= EH_OTHER
        mode = rng.choice(4, size=n_credit, p=[0.45, 0.35, 0.10, 0.10])  # order+billing, billing, order, none
        billing = np.where(credited_eh, mode <= 1, rng.random(n_credit) < 0.6)
        own_order = np.where(credited_eh, (mode == 0) | (mode == 2), rng.random(n_credit) < 0.5)
        credit_eh = credited_eh & (mode != 3)
        credit_xml = rng.random(n_credit) < m.xml_share
        self.to_xml_lines(credit_lines, credit_xml[credit_lines.doc - n_invoices], rng)

        docs = Docs(
            kind=np.concatenate([kind, np.full(n_credit, CREDIT)]),
            supplier=np.concatenate([supplier, supplier[credited]]),
            date=np.concatenate([date, credit_date]),
            xml=np.concatenate([xml, credit_xml]),
            ehandel=np.concatenate([kind <= EH_OTHER, credit_eh]),
            credited=np.concatenate([np.full(n_invoices, -1), credited]),
            billing_ref=np.concatenate([np.zeros(n_invoices, dtype=bool), billing]),
            own_order_ref=np.concatenate([np.zeros(n_invoices, dtype=bool), own_order]),
            ean=rng.integers(0, len(m.ean), n_invoices + n_credit),
        )
        docs.ean[n_invoices:] = docs.ean[credited]
        all_lines = Lines.concat([lines, credit_lines])
        docs.n_lines = np.concatenate([n_lines, credit_n_lines])
        docs.first_line = np.concatenate([[0], np.cumsum(docs.n_lines)[:-1]])

        self.steer(docs, all_lines, goods_spend_ore, share_spend, food_share_of_spend(year))

        stats = Stats(invoices=n_invoices + n_credit)
        orders = self.orders(rng, m, year, docs, all_lines, n_invoices, match_rate)
        inv_numbers, inv_refs = self.references(rng, m, year, docs, orders, inv_dialect)
        if m.delivers_invoices:
            stats.add(self.write_invoices(raw, m, year, docs, all_lines, inv_numbers, inv_refs, inv_dialect))
        if m.delivers_orders and ord_dialect is not None:
            stats.add(self.write_orders(raw, m, year, orders, ord_dialect))
        return stats

    @staticmethod
    def business_days(rng, year: int, n: int) -> np.ndarray:
        start = np.datetime64(f"{year}-01-01")
        end = np.datetime64(f"{year}-12-31")
        days = start + rng.integers(0, int((end - start).astype(int)) + 1, n).astype("timedelta64[D]")
        weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
        days = days - (weekday == 5).astype("timedelta64[D]") + (weekday == 6).astype("timedelta64[D]")
        return np.clip(days, start, end)

    def goods_flags(self, lines: Lines) -> tuple[np.ndarray, np.ndarray]:
        """METHODS 2/3 on the final codes: (goods line, Fødevarer line)."""
        seg = lines.unspsc // 1_000_000
        has_art = lines.art > 0
        goods = np.where(has_art, GOODS_ART[lines.art], (lines.unspsc > 0) & self.goods_segment[seg])
        food = goods & np.where(lines.unspsc > 0, self.food_segment[seg], lines.art == _art_index("2.2"))
        return goods, food

    def steer(
        self, docs: Docs, lines: Lines, goods_spend_ore: float, share_spend: float, food_share: float
    ) -> None:
        """Rescale goods amounts so that the municipality's e-handel and other goods spend hit their targets."""
        goods, food = self.goods_flags(lines)
        eh = docs.ehandel[lines.doc]
        sign = np.where(docs.kind[lines.doc] == CREDIT, -1, 1)
        ehandel_target = goods_spend_ore * share_spend
        groups = [(goods & eh & food, ehandel_target * food_share),
                  (goods & eh & ~food, ehandel_target * (1 - food_share)),
                  (goods & ~eh, goods_spend_ore * (1 - share_spend))]  # fmt: skip
        if not (groups[1][0]).any():  # no other e-handel at all (a tiny municipality): food takes it all
            groups[0] = (groups[0][0], ehandel_target)
        for mask, goal in groups:
            net = float((lines.amount[mask] * sign[mask]).sum())
            if net > 0:
                lines.amount[mask] = np.maximum(np.rint(lines.amount[mask] * (goal / net)), 1).astype(
                    np.int64
                )

    # --- orders ------------------------------------------------------------------------------------------

    def orders(self, rng, m: Municipality, year: int, docs: Docs, lines: Lines, n_invoices: int,
               match_rate: float) -> dict:  # fmt: skip
        """One order per e-handel invoice (its lines; a back-order line when it is no fakturamatch) plus
        orders never invoiced. Returns order arrays and order lines, numbers assigned by order date."""
        eh_inv = np.flatnonzero(docs.ehandel[:n_invoices])
        n_eh = len(eh_inv)
        n_match = round(match_rate * n_eh)
        matched = np.zeros(n_eh, dtype=bool)
        matched[rng.permutation(n_eh)[:n_match]] = True
        # Orders never invoiced (cancelled, or invoiced next year)
        n_open = round(0.08 * n_eh) + 1
        open_kind = np.where(rng.random(n_open) < 0.6, EH_FOOD, EH_OTHER)
        dialect = self.world.order_dialects.get(m.code) or self.world.invoice_dialects[m.code]
        open_supplier = np.empty(n_open, dtype=np.int64)
        for kk, pool in ((EH_FOOD, [(FOOD_WHOLESALE, 1.0)]), (EH_OTHER, [(GOODS_WHOLESALE, 1.0)])):
            sel = np.flatnonzero(open_kind == kk)
            open_supplier[sel] = self.draw_suppliers(rng, m, pool, len(sel))
        open_lines, _ = self.draw_lines(rng, m, dialect, open_kind, open_supplier, doc_offset=n_eh,
                                             n_lines=1 + rng.poisson(2.0, n_open))  # fmt: skip
        # Lines of the invoiced orders = the invoice's lines
        idx = (
            np.concatenate(
                [np.arange(docs.first_line[i], docs.first_line[i] + docs.n_lines[i]) for i in eh_inv]
            )
            if n_eh
            else np.zeros(0, dtype=np.int64)
        )
        inv_lines = lines.take(idx)
        inv_lines.doc = np.repeat(np.arange(n_eh), docs.n_lines[eh_inv])
        totals = np.bincount(inv_lines.doc, weights=inv_lines.amount, minlength=n_eh).astype(np.int64)
        # a fakturamatch may still differ by a few øre; the others carry a back-order line of >= 3%
        tweak = matched & (rng.random(n_eh) < 0.2)
        starts = np.concatenate([[0], np.cumsum(docs.n_lines[eh_inv])[:-1]]).astype(np.int64)
        inv_lines.amount[starts[tweak]] += rng.integers(-60, 61, int(tweak.sum()))
        inv_lines.amount = np.maximum(inv_lines.amount, 1)
        back = np.flatnonzero(~matched)
        back_lines = (
            inv_lines.take(starts[back]) if len(back) else inv_lines.take(np.zeros(0, dtype=np.int64))
        )
        back_lines.number = docs.n_lines[eh_inv][back] + 1
        back_lines.amount = np.maximum(
            300, np.rint(totals[back] * rng.uniform(0.03, 0.25, len(back)))
        ).astype(np.int64)
        back_lines.description = np.full(len(back), self.backorder_description)
        all_lines = Lines.concat([inv_lines, back_lines, open_lines])
        n_orders = n_eh + n_open
        order_lines_order = np.lexsort((all_lines.number, all_lines.doc))
        all_lines = all_lines.take(order_lines_order)
        supplier = np.concatenate([docs.supplier[eh_inv], open_supplier])
        inv_date = docs.date[eh_inv]
        start = np.datetime64(f"{year}-01-01")
        date = np.concatenate([np.maximum(inv_date - rng.integers(1, 22, n_eh).astype("timedelta64[D]"), start),
                               self.business_days(rng, year, n_open)])  # fmt: skip
        # order numbers follow the order dates
        by_date = np.lexsort((np.arange(n_orders), date))
        seq = np.empty(n_orders, dtype=np.int64)
        seq[by_date] = np.arange(1, n_orders + 1)
        u = rng.random(n_orders)
        order_type = np.where(u < 0.68, 0, np.where(u < 0.90, 1, 2))
        xml = rng.random(n_orders) < (0.03 if m.xml_share else 0.0)
        no_cvr = xml & (rng.random(n_orders) < 0.25)
        return {"invoice": eh_inv, "supplier": supplier, "date": date, "seq": seq, "type": order_type,
                "xml": xml, "no_cvr": no_cvr, "lines": all_lines, "n": n_orders,
                "n_lines": np.bincount(all_lines.doc, minlength=n_orders)}  # fmt: skip

    def order_numbers(self, year: int, seq: np.ndarray, style: str) -> pl.Series:
        prefix = f"{year % 100:02d}" if style == "numeric" else f"PO{year % 100:02d}"
        base = to_text(seq).str.zfill(6)
        return pl.select(pl.concat_str([pl.lit(prefix), base]).alias("ordrenummer")).to_series()

    def references(self, rng, m: Municipality, year: int, docs: Docs, orders: dict, dialect: Dialect):
        """Document numbers and the order reference written on each invoice / credit note."""
        n_docs = len(docs.kind)
        order_style = (self.world.order_dialects.get(m.code) or dialect).order_number_style
        numbers = self.order_numbers(year, orders["seq"], order_style).to_list()
        refs = [""] * n_docs
        variant = rng.random(n_docs)
        for pos, inv in enumerate(orders["invoice"].tolist()):
            number = numbers[pos]
            v = variant[inv]
            if v < 0.72:
                refs[inv] = number
            elif v < 0.82:
                refs[inv] = "000" + number if number.isdigit() else number.lower()
            elif v < 0.92:
                refs[inv] = number[:2] + " " + number[2:]
            else:
                refs[inv] = f" {number} "
        # Not e-handel: blanks, placeholders, requisitions, a person; a few name another supplier's order.
        csv_orders = np.flatnonzero(~orders["xml"])
        other = np.flatnonzero(docs.kind < CREDIT)
        other = other[~docs.ehandel[other]]
        u = rng.random(len(other))
        r = rng.integers(0, 1_000_000, len(other))
        for j, i in enumerate(other.tolist()):
            x = u[j]
            if x < 0.45:
                continue
            if x < 0.65:
                refs[i] = PLACEHOLDERS[r[j] % len(PLACEHOLDERS)]
            elif x < 0.80:
                refs[i] = f"REKV-{r[j]:06d}"
            elif x < 0.92:
                refs[i] = f"9{r[j] % 100_000:05d}"
            elif x < 0.99 or not len(csv_orders):
                refs[i] = f"Att. {FIRST_NAMES[r[j] % len(FIRST_NAMES)]}"
            else:  # another supplier's order number: same number, different CVR -> not e-handel
                pos = int(csv_orders[r[j] % len(csv_orders)])
                if orders["supplier"][pos] != docs.supplier[i]:
                    refs[i] = numbers[pos]
        for i in np.flatnonzero(docs.kind == CREDIT).tolist():
            if docs.own_order_ref[i]:
                refs[i] = refs[docs.credited[i]]
        # Document numbers: unique within the municipality across years; the style is the supplier's
        yy = f"{year % 100:02d}"
        seq = np.arange(1, n_docs + 1)
        styles = self.world.suppliers.number_style[docs.supplier]
        is_credit = docs.kind == CREDIT
        doc_numbers = []
        for s, q, c in zip(styles.tolist(), seq.tolist(), is_credit.tolist(), strict=True):
            if s == 0:
                doc_numbers.append(f"{'8' if c else '1'}{yy}{q:07d}")
            elif s == 1:
                doc_numbers.append(f"{'KN' if c else 'F'}-20{yy}-{q:06d}")
            else:
                doc_numbers.append(f"{'CN' if c else 'INV'}{yy}{q:07d}")
        return doc_numbers, refs

    # --- writing -----------------------------------------------------------------------------------------

    def write_invoices(self, raw: Path, m: Municipality, year: int, docs: Docs, lines: Lines,
                       numbers: list[str], refs: list[str], dialect: Dialect) -> Stats:  # fmt: skip
        stats = Stats()
        csv_docs = ~docs.xml
        duplicate = -1
        if m.code == DUPLICATE_XML_KOMMUNE:
            candidates = np.flatnonzero(csv_docs & (docs.kind == EH_FOOD))
            duplicate = int(candidates[0]) if len(candidates) else -1
        # CSV rows: documents are already in date order (credit notes follow; re-sort all by date)
        doc_order = np.lexsort((np.arange(len(docs.kind)), docs.date))
        doc_order = doc_order[csv_docs[doc_order]]
        line_idx = np.concatenate([np.arange(int(docs.first_line[d]), int(docs.first_line[d] + docs.n_lines[d]))
                                   for d in doc_order.tolist()]) if len(doc_order) else np.zeros(0, np.int64)  # fmt: skip
        frame_docs = self.invoice_doc_frame(m, docs, numbers, refs, dialect)
        bad = self.bad_invoice_rows(m, year, dialect) if m.code == BAD_ROWS_KOMMUNE else None
        months = docs.date.astype("datetime64[M]").astype(np.int64) % 12
        period = self.period_of(months[lines.doc[line_idx]], dialect.split)
        folder = raw / "invoices" / m.code
        stats.files += self.write_periods(folder, self.invoice_file_name(dialect, m, year), period, line_idx,
                                          lambda idx: self.invoice_rows(idx, lines, docs, frame_docs, dialect),
                                          dialect, bad)  # fmt: skip
        stats.invoice_lines += len(line_idx) + (0 if bad is None else bad.height)
        xml_docs = np.flatnonzero(docs.xml).tolist() + ([duplicate] if duplicate >= 0 else [])
        for d in xml_docs:
            self.write_xml_document(
                raw, m, year, docs, lines, numbers, refs, d, rng_peppol=(d * 7919) % 5 < 2
            )
        stats.files += len(xml_docs)
        stats.xml_documents += len(xml_docs)
        return stats

    def invoice_doc_frame(self, m: Municipality, docs: Docs, numbers, refs, dialect: Dialect) -> pl.DataFrame:
        credit_word, invoice_word = dialect.document_types[1], dialect.document_types[0]
        credited_numbers = [numbers[c] if (c >= 0 and b) else "" for c, b in
                            zip(docs.credited.tolist(), docs.billing_ref.tolist(), strict=True)]  # fmt: skip
        return pl.DataFrame({
            "kommunekode": pl.Series([self.code_text(m.code, dialect)] * len(numbers), dtype=pl.String),
            "fakturanummer": pl.Series(numbers, dtype=pl.String),
            "dokumenttype": pl.Series(np.where(docs.kind == CREDIT, credit_word, invoice_word), dtype=pl.String),
            "fakturadato": pl.Series(docs.date).dt.strftime(dialect.date_format),
            "leverandoer_cvr": self.cvr_series[dialect.cvr_style].gather(docs.supplier),
            "leverandoer_navn": self.supplier_names.gather(docs.supplier),
            "ean": pl.Series(m.ean, dtype=pl.String).gather(docs.ean),
            "ordrenummer": pl.Series(refs, dtype=pl.String),
            "krediteret_fakturanummer": pl.Series(credited_numbers, dtype=pl.String),
        }) if len(numbers) else pl.DataFrame()  # fmt: skip

    def invoice_rows(self, idx: np.ndarray, lines: Lines, docs: Docs, frame_docs: pl.DataFrame,
                     dialect: Dialect) -> pl.DataFrame:  # fmt: skip
        """Invoice lines as text, formatted in one polars pass (per-call overhead dominates small frames)."""
        doc = lines.doc[idx]
        sign = np.where((docs.kind[doc] == CREDIT) & (dialect.credit_sign < 0), -1, 1)
        base = frame_docs.select(pl.all().gather(pl.Series(doc)))
        numbers = pl.DataFrame({
            "_line": lines.number[idx].astype(np.int32), "_desc": lines.description[idx].astype(np.int32),
            "_unspsc": lines.unspsc[idx].astype(np.int32), "_art": lines.art[idx].astype(np.int32),
            "_sub": (lines.item[idx] % 9 + 1).astype(np.int32), **amount_columns(lines.amount[idx] * sign),
        })  # fmt: skip
        art = pl.col("_art").replace_strict(list(range(len(ART_CODES))), [art_code(a, dialect.art_style)
                                                                          for a in ART_CODES])  # fmt: skip
        if dialect.art_style == "2.2.x":
            art = pl.when(pl.col("_art") > 0).then(art + "." + pl.col("_sub").cast(pl.String)).otherwise(art)
        rows = pl.concat([base, numbers], how="horizontal").with_columns(
            linjenummer=pl.col("_line").cast(pl.String),
            varebeskrivelse=self.description_expr(),
            unspsc=pl.when(pl.col("_unspsc") > 0).then(pl.col("_unspsc").cast(pl.String)),
            art=art,
            beloeb=amount_expr(dialect.decimals),
            valuta=pl.lit("DKK"),
        )
        return rows.select(dialect.columns)

    def description_expr(self) -> pl.Expr:
        return pl.col("_desc").replace_strict(list(range(len(self.descriptions))), self.descriptions,
                                              return_dtype=pl.String)  # fmt: skip

    @staticmethod
    def period_of(months: np.ndarray, split: str) -> np.ndarray:
        if split == "month":
            return months
        if split == "quarter":
            return months // 3
        if split == "half":
            return months // 6
        return np.zeros_like(months)

    @staticmethod
    def invoice_file_name(dialect: Dialect, m: Municipality, year: int):
        layout = dialect.layout or ""
        if layout.startswith("opus"):
            stem = f"kreditorbilag_{m.code}_{year}"
        elif layout.startswith("prisme"):
            stem = f"Prisme_leverandoerfakturaer_{year}"
        else:
            stem = f"fakturalinjer_{m.name.lower().replace(' ', '_')}_{year}"
        return lambda p: f"{stem}{period_suffix(dialect.split, year, p)}.csv"

    @staticmethod
    def order_file_name(dialect: Dialect, m: Municipality, year: int):
        layout = dialect.layout or ""
        stem = {
            "rakat": f"rakat_ordreeksport_{year}",
            "opus_indkoeb": f"opus_indkoeb_ordrer_{m.code}_{year}",
        }.get(layout, f"ordrelinjer_{year}")
        return lambda p: f"{stem}{period_suffix(dialect.split, year, p)}.csv"

    def write_periods(self, folder: Path, name_of, period: np.ndarray, rows: np.ndarray, frame_of,
                      dialect: Dialect, extra: pl.DataFrame | None) -> int:  # fmt: skip
        """Write the rows of each period to its own file; rows are formatted CHUNK_ROWS at a time."""
        folder.mkdir(parents=True, exist_ok=True)
        written: set[int] = set()
        for c in range(0, len(rows), CHUNK_ROWS):
            chunk = slice(c, min(len(rows), c + CHUNK_ROWS))
            frame = frame_of(rows[chunk]).with_columns(pl.all().replace("", None))  # empty cells unquoted
            p = period[chunk]
            cuts = np.concatenate([[0], np.flatnonzero(np.diff(p)) + 1, [len(p)]])
            for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
                key = int(p[a])
                part = frame.slice(a, b - a)
                if (
                    extra is not None
                    and key == int(period[0])
                    and c + CHUNK_ROWS >= np.searchsorted(period, key, side="right")
                ):  # the bad rows close the first file
                    part = pl.concat(
                        [part, extra.select(part.columns).with_columns(pl.all().replace("", None))]
                    )
                with open(folder / name_of(key), "ab" if key in written else "wb") as handle:
                    handle.write(encode_csv(part, dialect, header=key not in written))
                written.add(key)
        return len(written)

    def bad_invoice_rows(self, m: Municipality, year: int, dialect: Dialect) -> pl.DataFrame:
        """Three deliberately bad rows (documented in synthetic/__init__.py), each its own service invoice."""
        fmt = dialect.date_format
        bad_date = fmt.replace("%Y", str(year)).replace("%m", "02").replace("%d", "30")  # 30 February
        good_date = pl.Series(np.array([f"{year}-06-15"], dtype="datetime64[D]")).dt.strftime(fmt)[0]
        service = self.world.suppliers.members(SERVICES)[0]
        rows = []
        for i, (date, amount, kommune) in enumerate([
            (bad_date, format_amount(np.array([125_000]), dialect.decimals)[0], m.code),
            (good_date, "abc", m.code),
            (good_date, format_amount(np.array([98_000]), dialect.decimals)[0],
             "0101"),
        ]):  # fmt: skip
            rows.append({
                "kommunekode": kommune, "fakturanummer": f"BAD-{year}-{i + 1}",
                "dokumenttype": dialect.document_types[0], "fakturadato": date,
                "leverandoer_cvr": self.cvr_series[dialect.cvr_style][int(service)],
                "leverandoer_navn": self.world.suppliers.name[int(service)], "ean": m.ean[0], "ordrenummer": "",
                "krediteret_fakturanummer": "", "linjenummer": "1", "varebeskrivelse": "Konsulentbistand",
                "unspsc": "", "art": "4.0", "beloeb": amount, "valuta": "DKK",
            })  # fmt: skip
        return pl.DataFrame(rows).select(dialect.columns)

    def write_orders(self, raw: Path, m: Municipality, year: int, orders: dict, dialect: Dialect) -> Stats:
        stats = Stats(orders=orders["n"])
        ol: Lines = orders["lines"]
        numbers = self.order_numbers(year, orders["seq"], dialect.order_number_style)
        xml = orders["xml"]
        order_by_date = np.lexsort((orders["seq"], orders["date"]))
        csv_orders = order_by_date[~xml[order_by_date]]
        starts = np.concatenate([[0], np.cumsum(orders["n_lines"])[:-1]])
        line_idx = (
            np.concatenate(
                [
                    np.arange(int(starts[o]), int(starts[o] + orders["n_lines"][o]))
                    for o in csv_orders.tolist()
                ]
            )
            if len(csv_orders)
            else np.zeros(0, np.int64)
        )
        supplier = orders["supplier"]
        words = dialect.order_type_words
        frame_orders = pl.DataFrame({
            "ordrenummer": numbers,
            "ordredato": pl.Series(orders["date"]).dt.strftime(dialect.date_format),
            "leverandoer_cvr": self.cvr_series[dialect.cvr_style].gather(supplier),
            "leverandoer_navn": self.supplier_names.gather(supplier),
            "ordretype": pl.Series(list(words), dtype=pl.String).gather(orders["type"]),
        })  # fmt: skip
        agreement = np.isin(supplier, np.array(sorted(self.agreement_food)))
        goods, food = self.goods_flags(ol)

        def frame_of(idx: np.ndarray) -> pl.DataFrame:
            o = ol.doc[idx]
            unspsc = np.where(
                goods[idx] & (ol.unspsc[idx] == 0), self.fill_unspsc_fast(ol.category[idx]), ol.unspsc[idx]
            )
            base = frame_orders.select(pl.all().gather(pl.Series(o)))
            numbers = pl.DataFrame({
                "_line": ol.number[idx].astype(np.int32), "_item": ol.item[idx].astype(np.int32),
                "_desc": ol.description[idx].astype(np.int32), "_unspsc": unspsc.astype(np.int32),
                "_qty": ol.quantity[idx].astype(np.int32), "_agreement": agreement[o] & food[idx],
                **amount_columns(ol.amount[idx]),
            })  # fmt: skip
            rows = pl.concat([base, numbers], how="horizontal").with_columns(
                kommunekode=pl.lit(self.code_text(m.code, dialect)),
                ordrelinje=pl.col("_line").cast(pl.String),
                varenummer=pl.col("_item").cast(pl.String),
                varebeskrivelse=self.description_expr(),
                unspsc=pl.when(pl.col("_unspsc") > 0).then(pl.col("_unspsc").cast(pl.String)),
                antal=pl.col("_qty").cast(pl.String),
                beloeb=amount_expr(dialect.decimals),
                aftalenummer=pl.when(pl.col("_agreement")).then(pl.lit(AGREEMENT_FOOD)),
            )
            return rows.select(dialect.columns)

        months = orders["date"].astype("datetime64[M]").astype(np.int64) % 12
        period = self.period_of(months[ol.doc[line_idx]], dialect.split)
        extra = self.bad_order_row(m, year, dialect, frame_of) if m.code == BAD_ROWS_KOMMUNE else None
        stats.files += self.write_periods(raw / "orders" / m.code, self.order_file_name(dialect, m, year), period,
                                          line_idx, frame_of, dialect, extra)  # fmt: skip
        stats.order_lines += len(line_idx) + (0 if extra is None else extra.height)
        for o in np.flatnonzero(xml).tolist():
            self.write_xml_order(raw, m, year, orders, numbers[o], o, starts, peppol=o % 2 == 0)
            stats.files += 1
            stats.xml_documents += 1
        return stats

    def fill_unspsc_fast(self, category: np.ndarray) -> np.ndarray:
        first_segment = np.array([s[0] for s in self.segments])
        return np.where(category >= 0, first_segment[np.maximum(category, 0)] * 1_000_000 + 101_500, 0)

    def bad_order_row(self, m: Municipality, year: int, dialect: Dialect, frame_of) -> pl.DataFrame:
        """One order line with an impossible date (month 13), its own order that no invoice references."""
        bad_date = dialect.date_format.replace("%Y", str(year)).replace("%m", "13").replace("%d", "01")
        return pl.DataFrame([{
            "kommunekode": self.code_text(m.code, dialect), "ordrenummer": f"BAD-{year}-1", "ordrelinje": "1",
            "ordredato": bad_date, "leverandoer_cvr": self.cvr[0], "leverandoer_navn": self.world.suppliers.name[0],
            "varenummer": "1", "varebeskrivelse": "Kaffe, øko 1 kg", "unspsc": "50201706", "antal": "1",
            "beloeb": format_amount(np.array([45_000]), dialect.decimals)[0], "ordretype": dialect.order_type_words[0],
            "aftalenummer": "",
        }]).select(dialect.columns)  # fmt: skip

    @staticmethod
    def code_text(code: str, dialect: Dialect) -> str:
        return code.lstrip("0") if dialect.kommunekode == "3" else code

    # --- XML ---------------------------------------------------------------------------------------------

    def write_xml_document(self, raw: Path, m: Municipality, year: int, docs: Docs, lines: Lines, numbers, refs,
                           d: int, rng_peppol: bool) -> None:  # fmt: skip
        sup = int(docs.supplier[d])
        a, n = int(docs.first_line[d]), int(docs.n_lines[d])
        is_credit = docs.kind[d] == CREDIT
        credited = int(docs.credited[d])
        doc_lines = [ubl.Line(str(lines.number[i]), int(lines.quantity[i]), int(lines.amount[i]),
                              self.descriptions[lines.description[i]],
                              str(lines.unspsc[i]) if lines.unspsc[i] else "",
                              str(lines.item[i])) for i in range(a, a + n)]  # fmt: skip
        if not docs.xml[d]:  # the deliberate CSV+XML duplicate: goods lines keep a UNSPSC code
            for line, i in zip(doc_lines, range(a, a + n), strict=True):
                if not line.unspsc and lines.klass[i] == L_GOODS:
                    line.unspsc = str(self.fill_unspsc_fast(lines.category[i : i + 1])[0])
        document = ubl.Document(
            root="CreditNote" if is_credit else "Invoice", peppol=rng_peppol, number=numbers[d],
            issue_date=str(docs.date[d]), supplier_cvr=self.cvr[sup], supplier_name=self.world.suppliers.name[sup],
            supplier_gln="", buyer_gln=m.ean[int(docs.ean[d])], buyer_name=f"{m.name} Kommune",
            order_reference=refs[d].strip() if refs[d].strip() not in ("",) else "",
            billing_reference=numbers[credited] if is_credit and docs.billing_ref[d] else "",
            billing_date=str(docs.date[credited]) if is_credit else "", lines=doc_lines,
        )  # fmt: skip
        kind = "kreditnota" if is_credit else "faktura"
        folder = raw / "ubl" / m.code / str(year) / f"{docs.date[d].astype('datetime64[M]')}"[-2:]
        folder.mkdir(parents=True, exist_ok=True)
        suffix = "_kopi" if not docs.xml[d] else ""
        (folder / f"{kind}_{self.cvr[sup]}_{numbers[d]}{suffix}.xml").write_bytes(ubl.render(document))

    def write_xml_order(self, raw: Path, m: Municipality, year: int, orders: dict, number: str, o: int,
                        starts: np.ndarray, peppol: bool) -> None:  # fmt: skip
        ol: Lines = orders["lines"]
        sup = int(orders["supplier"][o])
        a, n = int(starts[o]), int(orders["n_lines"][o])
        unspsc = self.fill_unspsc_fast(ol.category[a : a + n])
        doc_lines = [ubl.Line(str(ol.number[i]), int(ol.quantity[i]), int(ol.amount[i]),
                              self.descriptions[ol.description[i]], str(unspsc[i - a]) if unspsc[i - a] else "",
                              str(ol.item[i])) for i in range(a, a + n)]  # fmt: skip
        no_cvr = bool(orders["no_cvr"][o])
        document = ubl.Document(
            root="Order", peppol=peppol, number=number, issue_date=str(orders["date"][o]),
            supplier_cvr="" if no_cvr else self.cvr[sup], supplier_name=self.world.suppliers.name[sup],
            supplier_gln=f"579{int(self.cvr[sup]):010d}", buyer_gln=m.ean[0], buyer_name=f"{m.name} Kommune",
            order_reference="", billing_reference="", billing_date="", lines=doc_lines,
        )  # fmt: skip
        folder = raw / "ubl" / m.code / str(year) / "ordrer"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"ordre_{number}.xml").write_bytes(ubl.render(document))


def period_suffix(split: str, year: int, period: int) -> str:
    if split == "month":
        return f"_{year}-{period + 1:02d}"
    if split == "quarter":
        return f"_Q{period + 1}"
    if split == "half":
        return f"_H{period + 1}"
    return ""


def to_text(values: np.ndarray) -> pl.Series:
    """Integers as text; through Int32, which polars casts far faster than Int64 (values here are small)."""
    return pl.Series(np.asarray(values, dtype=np.int32)).cast(pl.String)


def amount_columns(ore: np.ndarray) -> dict[str, np.ndarray]:
    ore = np.asarray(ore, dtype=np.int64)
    return {"_negative": ore < 0, "_units": (np.abs(ore) // 100).astype(np.int32),
            "_cents": (np.abs(ore) % 100).astype(np.int32)}  # fmt: skip


def amount_expr(style: str) -> pl.Expr:
    """Øre as text: 'comma' 1234,56 | 'thousands' 1.234,56 | 'dot' 1234.56, from amount_columns."""
    units = pl.col("_units")
    frac = pl.col("_cents").cast(pl.String).str.zfill(2)
    sign = pl.when(pl.col("_negative")).then(pl.lit("-")).otherwise(pl.lit(""))
    if style == "thousands":
        rest = (units % 1000).cast(pl.String).str.zfill(3)
        integer = (
            pl.when(units >= 1_000_000)
            .then((units // 1_000_000).cast(pl.String) + "." + ((units // 1000) % 1000).cast(pl.String).str.zfill(3)
                  + "." + rest)
            .when(units >= 1000)
            .then((units // 1000).cast(pl.String) + "." + rest)
            .otherwise(units.cast(pl.String))
        )  # fmt: skip
        return sign + integer + "," + frac
    return sign + units.cast(pl.String) + ("," if style == "comma" else ".") + frac


def format_amount(ore: np.ndarray, style: str) -> pl.Series:
    return pl.DataFrame(amount_columns(ore)).select(amount_expr(style).alias("beloeb")).to_series()


def art_code(code: str, style: str) -> str:
    return code.replace(".", "") if style == "22" else code


def encode_csv(frame: pl.DataFrame, dialect: Dialect, header: bool) -> bytes:
    """The frame as the source system writes it: header spelling, delimiter, line ends, encoding."""
    if header:
        frame = frame.rename(dict(zip(frame.columns, dialect.header, strict=True)))
    buffer = io.BytesIO()
    frame.write_csv(buffer, separator=dialect.delimiter, line_terminator=dialect.newline,
                    quote_style="necessary", include_header=header)  # fmt: skip
    data = buffer.getvalue()
    if dialect.encoding == "cp1252":
        return data.decode("utf-8").encode("cp1252")
    if dialect.encoding == "utf-8-sig" and header:
        return b"\xef\xbb\xbf" + data
    return data
