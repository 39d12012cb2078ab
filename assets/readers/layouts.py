"""Header spellings and source-system layouts of the CSV extracts, mapped to the canonical columns.

A header cell is first normalised (lower case, æ/ø/å -> ae/oe/aa, spaces, dashes and dots -> '_'), then
looked up here. The canonical names of DATA_CONTRACT.md map to themselves; each source-system layout adds
its own names. Add a layout by adding its aliases: no code changes elsewhere.
"""

import re
import unicodedata

INVOICE_COLUMNS = (
    "kommunekode", "fakturanummer", "dokumenttype", "fakturadato", "leverandoer_cvr", "leverandoer_navn",
    "ean", "ordrenummer", "krediteret_fakturanummer", "linjenummer", "varebeskrivelse", "unspsc", "art",
    "beloeb", "valuta",
)  # fmt: skip
INVOICE_REQUIRED = (
    "fakturanummer",
    "dokumenttype",
    "fakturadato",
    "leverandoer_cvr",
    "linjenummer",
    "beloeb",
)

ORDER_COLUMNS = (
    "kommunekode", "ordrenummer", "ordrelinje", "ordredato", "leverandoer_cvr", "leverandoer_navn",
    "varenummer", "varebeskrivelse", "unspsc", "antal", "beloeb", "ordretype", "aftalenummer",
)  # fmt: skip
ORDER_REQUIRED = ("ordrenummer", "ordrelinje", "ordredato", "leverandoer_cvr", "beloeb")
# Read beyond DATA_CONTRACT's order columns, as for invoices: the currency (an XML order's; a CSV column `valuta`
# when an extract has one, default DKK). A line in another currency is rejected: no exchange rate is known.
ORDER_EXTRA_COLUMNS = ("valuta",)

# Source-system layouts: normalised header -> canonical column. Names per system as they export them.
LAYOUTS: dict[str, dict[str, dict[str, str]]] = {
    "invoices": {
        "opus_oekonomi": {  # KMD Opus økonomi, kreditorbilag
            "kommunenr": "kommunekode",
            "bilagsnummer": "fakturanummer",
            "bilagstype": "dokumenttype",
            "bilagsdato": "fakturadato",
            "kreditor_cvr": "leverandoer_cvr",
            "kreditornavn": "leverandoer_navn",
            "ean_lokationsnummer": "ean",
            "indkoebsordre": "ordrenummer",
            "krediteret_bilag": "krediteret_fakturanummer",
            "bilagslinje": "linjenummer",
            "linjetekst": "varebeskrivelse",
            "unspsc_kode": "unspsc",
            "artskonto": "art",
            "beloeb_ekskl_moms": "beloeb",
            "valutakode": "valuta",
        },
        "prisme_finans": {  # Fujitsu Prisme, leverandørfakturalinjer
            "kommune": "kommunekode",
            "fakturanr": "fakturanummer",
            "type": "dokumenttype",
            "dato": "fakturadato",
            "cvr_nr": "leverandoer_cvr",
            "leverandoer": "leverandoer_navn",
            "gln": "ean",
            "ordrenr": "ordrenummer",
            "krediteret_fakturanr": "krediteret_fakturanummer",
            "linjenr": "linjenummer",
            "beskrivelse": "varebeskrivelse",
            "varekode_unspsc": "unspsc",
            "art_kode": "art",
            "nettobeloeb": "beloeb",
            "valuta_kode": "valuta",
        },
    },
    "orders": {
        "opus_indkoeb": {  # KMD Opus Indkøb, ordrelinjer
            "kommunenr": "kommunekode",
            "indkoebsordre": "ordrenummer",
            "ordrelinjenummer": "ordrelinje",
            "bestillingsdato": "ordredato",
            "kreditor_cvr": "leverandoer_cvr",
            "kreditornavn": "leverandoer_navn",
            "varenr": "varenummer",
            "varetekst": "varebeskrivelse",
            "unspsc_kode": "unspsc",
            "maengde": "antal",
            "beloeb_ekskl_moms": "beloeb",
            "ordrekanal": "ordretype",
            "aftale": "aftalenummer",
        },
        "rakat": {  # Rakat (e-handelssystem), ordreeksport
            "kommune": "kommunekode",
            "ordre_id": "ordrenummer",
            "linje_id": "ordrelinje",
            "oprettet": "ordredato",
            "leverandoer_cvr_nr": "leverandoer_cvr",
            "leverandoer": "leverandoer_navn",
            "varenummer": "varenummer",
            "produktnavn": "varebeskrivelse",
            "unspsc_kode": "unspsc",
            "stk": "antal",
            "linjebeloeb": "beloeb",
            "ordretype": "ordretype",
            "ski_aftale": "aftalenummer",
        },
    },
}


# Spellings that say the amount is net of VAT: such a cell wins over another cell read as the same column (an Opus
# extract may carry 'Beløb ekskl. moms', 'Moms' and 'Beløb', the amount incl. VAT). Any other two cells read as
# one column refuse the file: reading either one would be a guess.
PREFERRED_SPELLINGS = {"beloeb_ekskl_moms", "nettobeloeb"}

# What each canonical column holds (DATA_CONTRACT.md), for the reason a file is refused.
COLUMN_MEANINGS = {
    "kommunekode": "the municipality code", "fakturanummer": "the document number",
    "dokumenttype": "invoice or credit note", "fakturadato": "the issue date",
    "leverandoer_cvr": "the supplier's CVR number", "leverandoer_navn": "the supplier's name",
    "ean": "the receiving unit's GLN", "ordrenummer": "the order number",
    "krediteret_fakturanummer": "the credited invoice", "linjenummer": "the line number",
    "varebeskrivelse": "the item description", "unspsc": "the UNSPSC code", "art": "the kontoplan art",
    "beloeb": "the line amount excl. VAT", "valuta": "the currency", "ordrelinje": "the order line",
    "ordredato": "the order date", "varenummer": "the item number", "antal": "the quantity",
    "ordretype": "the order type", "aftalenummer": "the SKI agreement",
}  # fmt: skip


def normalise_header(cell: str) -> str:
    """'Leverandør CVR' -> 'leverandoer_cvr'; 'BELØB (ekskl. moms)' -> 'beloeb_ekskl_moms'."""
    text = cell.strip().strip('"').lower()
    text = text.replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "_", text)
    return text.strip("_")


def canonical_columns(kind: str) -> tuple[str, ...]:
    return INVOICE_COLUMNS if kind == "invoices" else (*ORDER_COLUMNS, *ORDER_EXTRA_COLUMNS)


def required_columns(kind: str) -> tuple[str, ...]:
    return INVOICE_REQUIRED if kind == "invoices" else ORDER_REQUIRED


def map_header(kind: str, header: list[str]) -> tuple[str, dict[int, str]]:
    """Map a file's header cells to canonical columns: (layout name, {cell index: canonical column}).

    The layout that recognises the most columns wins ('canonical' when none beats the canonical names).
    Raises ValueError naming the missing required columns when no layout covers them, or two cells read as the
    same column (unless one of them has a PREFERRED_SPELLINGS name): the last one must not win silently.
    """
    normalised = [normalise_header(c) for c in header]
    canonical = set(canonical_columns(kind))
    candidates = {"canonical": {c: c for c in canonical}}
    candidates.update(
        {name: {**{c: c for c in canonical}, **aliases} for name, aliases in LAYOUTS[kind].items()}
    )
    best_name, best_cells = "canonical", {}
    for name, aliases in candidates.items():
        cells: dict[str, list[int]] = {}  # canonical column -> indexes of the cells read as it
        for i, n in enumerate(normalised):
            if n in aliases:
                cells.setdefault(aliases[n], []).append(i)
        if len(cells) > len(best_cells):
            best_name, best_cells = name, cells
    missing = [c for c in required_columns(kind) if c not in best_cells]
    if missing:
        raise ValueError(
            f"the header has no column for {', '.join(missing)} (read: {'; '.join(header[:20])})"
        )
    mapping = {}
    for column, indexes in best_cells.items():
        if len(indexes) > 1:
            preferred = [i for i in indexes if normalised[i] in PREFERRED_SPELLINGS]
            if len(preferred) != 1:
                raise ValueError(_ambiguity(column, [header[i] for i in indexes]))
            indexes = preferred
        mapping[indexes[0]] = column
    return best_name, dict(sorted(mapping.items()))


def _ambiguity(column: str, cells: list[str]) -> str:
    names = [f"'{c.strip()}'" for c in cells]
    listed = f"{', '.join(names[:-1])} and {names[-1]}"
    meaning = f" ({COLUMN_MEANINGS[column]})" if column in COLUMN_MEANINGS else ""
    both = "both" if len(cells) == 2 else "all"
    return f"the columns {listed} {both} read as {column}{meaning}: deliver one of them"
