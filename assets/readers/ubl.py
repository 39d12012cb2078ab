"""E-invoices, credit notes and e-orders in UBL XML (OIOUBL 2.0x/2.1/3, Peppol BIS 3), read for the pipeline.

Pure functions, no Dagster. One document in, one `UblDocument` out, or a `UblError` whose reason an analyst
can act on (it becomes the quarantine row's reason).

Formats (the `format` value) are decided by the root element and cbc:CustomizationID:
  OIOUBL-2.0         CustomizationID OIOUBL-2.01 / OIOUBL-2.02 (UBL 2.0), invoices, credit notes and orders
  OIOUBL-2.1         CustomizationID OIOUBL-2.1 (UBL 2.1), invoices, credit notes and orders
  OIOUBL-3           CustomizationID urn:fdc:oioubl.dk:trns:... (the OIOUBL 3 release candidates, UBL 2.3 and
                     EN 16931 based) or anything starting OIOUBL-3; read generically as UBL 2.x
  PEPPOL-BIS3        Peppol BIS Billing 3.0 invoices and credit notes (urn:fdc:peppol.eu:2017:poacc:...)
  PEPPOL-BIS3-ORDER  Peppol BIS Ordering 3 orders (urn:fdc:peppol.eu:poacc:trns:order:3)

Decisions (METHODS.md 1 and 5; DATA_CONTRACT.md `ehandel inspect`):
- Net amounts are the lines' cbc:LineExtensionAmount, never LegalMonetaryTotal/TaxExclusiveAmount (which in
  OIOUBL 2.x holds the VAT). `UblLine.amount` is signed for the statistics as METHODS 1 says: a credit
  note's lines count negative whatever sign the document used (-abs), exactly as staging treats them, so the
  inspect output is what the warehouse will hold. (A Peppol credit note may carry a negative "correcting"
  line, base-creditnote-correction.xml: it counts negative too under that rule.) `UblLine.document_amount`
  keeps the sign as written; the raw rows (`invoice_line_rows`) carry that one.
- The supplier is AccountingSupplierParty (invoices, credit notes) or SellerSupplierParty (orders). Its CVRs
  are the identifiers with schemeID DK:CVR or 0184 in PartyLegalEntity/CompanyID, then PartyIdentification/ID,
  then EndpointID, with a DK prefix and spaces stripped; only 8-digit values count. An invoice or credit note
  naming none is refused (it cannot be attributed to a supplier); an order naming none is kept with
  supplier_cvr None (METHODS 5: it matches on the order number alone).
- The buyer's GLN (EAN) is the customer party's EndpointID, else PartyIdentification/ID, with schemeID GLN
  (OIOUBL) or 0088 (Peppol), 13 digits.
- Order references that are placeholders (NA, N/A, 0, INGEN, ... METHODS 5) are None.
- UNSPSC is an ItemClassificationCode with listID UNSPSC (OIOUBL) or TST (Peppol, UNCL 7143), 8 digits.
- A line's description is Item/Description, else Item/Name.
- In the inspect JSON amounts are strings with exactly two decimals ("-5050.00"): exact, never binary floats.

- Orders carry no order_reference (their own number is `id`); `agreement_number` is cac:Contract/cbc:ID.

Safety: the parser never resolves entities, loads a DTD or touches the network, and any document that declares
a DTD is refused before parsing (e-invoices never do), which stops billion-laughs and XXE files at once.

Speed (`parse_files`, measured with `python -m assets.readers.ubl_bench`): libxml2's parse is about half the
cost; the header is one compiled XPath (a newline-joined concat) and all lines' fields one compiled union, so
Python touches only the ~10 nodes a line that matter; results cross processes as text, not Decimals.
"""

import codecs
import hashlib
import json
import multiprocessing
import os
import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from lxml import etree  # pyright: ignore[reportAttributeAccessIssue]  (no stubs for the compiled module)

__all__ = [
    "ORDER_NUMBER_PLACEHOLDERS",
    "UblDocument",
    "UblError",
    "UblLine",
    "cvr_from_identifier",
    "default_processes",
    "inspect_file",
    "invoice_line_rows",
    "normalise_order_number",
    "order_line_rows",
    "parse_document",
    "parse_files",
    "read_document",
    "read_file",
    "to_inspect_json",
]

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024  # real invoices with embedded PDFs stay far below this

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
_CBC = f"{{{NS['cbc']}}}"
_CAC = f"{{{NS['cac']}}}"
_T_ID = _CBC + "ID"
_T_NAME = _CBC + "Name"
_ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": "invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": "credit_note",
    "{urn:oasis:names:specification:ubl:schema:xsd:Order-2}Order": "order",
}

CVR_SCHEMES = frozenset({"DK:CVR", "0184"})
GLN_SCHEMES = frozenset({"GLN", "0088"})
UNSPSC_LISTS = frozenset({"UNSPSC", "TST"})
# METHODS 5: these (after trimming, upper-casing and removing inner white space) mean "no order number".
ORDER_NUMBER_PLACEHOLDERS = frozenset({"", "NA", "N/A", "N.A.", "0", "-", "INGEN", "NONE", "NULL"})

_TWO_PLACES = Decimal("0.01")
_WHITESPACE = re.compile(r"\s+")
_OIOUBL_VERSION = re.compile(r"^OIOUBL-(\d)\.(\d)", re.IGNORECASE)


class UblError(ValueError):
    """A document that cannot be used; `reason` is plain words for the quarantine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __reduce__(self):  # keeps the reason when it crosses a process boundary
        return (UblError, (self.reason,))


# NamedTuples rather than dataclasses: immutable, and four times cheaper to pickle between the batch workers
# and the caller, which is what bounds `parse_files` on two cores.
class UblLine(NamedTuple):
    line_id: str
    amount: Decimal  # signed for the statistics: negative on credit notes
    document_amount: Decimal  # as written in the document
    unspsc: str | None
    order_line_reference: str | None
    description: str | None
    quantity: Decimal | None
    item_number: str | None


class UblDocument(NamedTuple):
    format: str
    document_type: str  # invoice | credit_note | order
    id: str
    issue_date: date
    supplier_cvr: str | None
    supplier_cvrs: tuple[str, ...]
    supplier_name: str | None
    buyer_gln: str | None
    order_reference: str | None
    billing_reference: str | None
    currency: str
    lines: tuple[UblLine, ...]
    customization_id: str = ""
    agreement_number: str | None = None  # orders: cac:Contract/cbc:ID
    source: str = ""

    def __reduce__(self):
        # Decimals pickle slowly; as text the batch workers' results cross processes five times faster.
        lines = tuple(
            (ln.line_id, str(ln.document_amount), ln.unspsc, ln.order_line_reference, ln.description,
             None if ln.quantity is None else str(ln.quantity), ln.item_number)
            for ln in self.lines
        )  # fmt: skip
        return (_document_from_state, (tuple(self[:11]), lines, tuple(self[12:])))

    @property
    def net_amount(self) -> Decimal:
        """Sum of the lines' net amounts, negative for credit notes (never TaxExclusiveAmount)."""
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def line_count(self) -> int:
        return len(self.lines)


_new_tuple = tuple.__new__  # skips the NamedTuple's Python-level __new__: the fields are already in order


def _document_from_state(head: tuple, lines: tuple, tail: tuple) -> UblDocument:
    credit_note = head[1] == "credit_note"
    rebuilt = []
    for line_id, text, unspsc, order_line_reference, description, quantity, item_number in lines:
        document_amount = Decimal(text)
        rebuilt.append(
            _new_tuple(UblLine, (
                line_id, -abs(document_amount) if credit_note else document_amount, document_amount,
                unspsc, order_line_reference, description,
                None if quantity is None else Decimal(quantity), item_number,
            ))
        )  # fmt: skip
    return _new_tuple(UblDocument, (*head, tuple(rebuilt), *tail))


# ---------------------------------------------------------------------------------------------- parsing


def _make_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_blank_text=True,  # fewer nodes to build: about 15% faster on indented files
        remove_pis=True,
        collect_ids=False,
    )


_PARSERS = threading.local()  # an lxml parser must not be used by two threads at once: one per thread


def _parser() -> etree.XMLParser:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = _make_parser()
    return parser


_DTD_REASON = "the file declares a DTD/entities, which e-invoices never do; refused for safety"


def _declares_dtd(data: bytes) -> bool:
    """True when the prolog (before the root element) holds <!DOCTYPE: checked before any parsing."""
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or data[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        encoding = "utf-16-be" if data[:1] == b"\x00" or data[:2] == codecs.BOM_UTF16_BE else "utf-16-le"
        text = data[: 1 << 20].decode(encoding, errors="ignore").lstrip("\ufeff").encode("utf-8")
        return _declares_dtd(text)
    i = 3 if data.startswith(codecs.BOM_UTF8) else 0
    n = len(data)
    while i < n:
        while i < n and data[i] in b" \t\r\n":
            i += 1
        if data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            i = n if end < 0 else end + 2
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            i = n if end < 0 else end + 3
        else:
            return data.startswith(b"<!DOCTYPE", i)
    return False


def _not_xml_reason(data: bytes) -> str | None:
    """A clear reason for input that is not XML at all (empty, binary, PDF, ZIP, CSV ...)."""
    if not data or data.isspace():
        return "the file is empty"
    head = data[:8]
    if head.startswith(b"%PDF"):
        return "not an XML document: the file is a PDF"
    if head.startswith(b"PK\x03\x04"):
        return "not an XML document: the file is a ZIP archive (unpack it first)"
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or head[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return None  # UTF-16 XML: lxml reads it
    start = data[:1024].removeprefix(codecs.BOM_UTF8).lstrip()
    if b"\x00" in data[:1024]:
        return "not an XML document: the file holds binary data"
    if not start.startswith(b"<"):
        try:
            shown = start[:30].decode("utf-8")
        except UnicodeDecodeError:  # Danish finance exports are often Windows-1252
            shown = start[:30].decode("cp1252", errors="replace")
        shown = shown.replace("\r", " ").replace("\n", " ")
        return f"not an XML document: it starts with {shown!r} instead of '<'"
    return None


def _error_at_end(data: bytes, exc: etree.XMLSyntaxError) -> bool:
    """Whether libxml2 stopped at the very end of the data: the mark of a file cut off in transfer."""
    line, column = exc.position
    stripped = data.rstrip()
    last_line = stripped[stripped.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")
    return line >= stripped.count(b"\n") + 1 and column + 1 >= len(last_line)


def _parse_xml(data: bytes) -> etree._Element:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UblError(
            f"the file is {len(data) / 1e6:.0f} MB; "
            f"e-documents over {MAX_DOCUMENT_BYTES // 2**20} MB are refused"
        )
    reason = _not_xml_reason(data)
    if reason:
        raise UblError(reason)
    if _declares_dtd(data):
        raise UblError(_DTD_REASON)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg or exc).strip()
        message = re.sub(r",? line \d+, column \d+$", "", message)
        if "Premature end of data" in message or (_error_at_end(data, exc) and "mismatch" not in message):
            message = f"the file ends before the document does ({message})"
        raise UblError(f"the XML is truncated or malformed at line {exc.lineno}: {message}") from None
    if root is None:
        raise UblError("the file is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # defence in depth (e.g. odd encodings)
        raise UblError(_DTD_REASON)
    return root


def _xpath(expression: str) -> etree.XPath:
    return etree.XPath(expression, namespaces=NS, smart_strings=False)


_PARTY_PATHS = {  # kind -> (supplier party, customer party)
    "invoice": ("cac:AccountingSupplierParty/cac:Party", "cac:AccountingCustomerParty/cac:Party"),
    "credit_note": ("cac:AccountingSupplierParty/cac:Party", "cac:AccountingCustomerParty/cac:Party"),
    "order": ("cac:SellerSupplierParty/cac:Party", "cac:BuyerCustomerParty/cac:Party"),
}
# A party's identifiers in the DATA_CONTRACT's priority: legal entity, identification, endpoint (for the
# buyer's GLN: endpoint, then identification).
_SUPPLIER_IDS = ("cac:PartyLegalEntity/cbc:CompanyID", "cac:PartyIdentification/cbc:ID", "cbc:EndpointID")
_CUSTOMER_IDS = ("cbc:EndpointID", "cac:PartyIdentification/cbc:ID")


def _header_xpath(supplier: str, customer: str) -> etree.XPath:
    """The whole header in one compiled XPath: its fields joined by newlines, which normalize-space() never
    leaves in a value. Each identifier comes as (how many, schemeID, value of the first): one call instead of
    fifteen, and the rare party with two identifiers of a kind is read again element by element."""
    fields = [
        "normalize-space(cbc:CustomizationID)", "normalize-space(cbc:ID)", "normalize-space(cbc:IssueDate)",
        "normalize-space(cbc:DocumentCurrencyCode)", "normalize-space(cac:OrderReference/cbc:ID)",
        "normalize-space(cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID)",
        "normalize-space(cac:Contract/cbc:ID)", f"count({supplier})",
        f"normalize-space({supplier}/cac:PartyName/cbc:Name)",
        f"normalize-space({supplier}/cac:PartyLegalEntity/cbc:RegistrationName)",
    ]  # fmt: skip
    for party, paths in ((supplier, _SUPPLIER_IDS), (customer, _CUSTOMER_IDS)):
        for path in paths:
            fields += [
                f"count({party}/{path})",
                f"normalize-space({party}/{path}/@schemeID)",
                f"normalize-space({party}/{path})",
            ]
    return _xpath("concat(" + ", '\n', ".join(fields) + ")")


_X_HEADER = {kind: _header_xpath(supplier, customer) for kind, (supplier, customer) in _PARTY_PATHS.items()}
_X_SUPPLIER_IDS = {
    kind: tuple(_xpath(f"{supplier}/{path}") for path in _SUPPLIER_IDS)
    for kind, (supplier, _customer) in _PARTY_PATHS.items()
}
_X_CUSTOMER_IDS = {
    kind: tuple(_xpath(f"{customer}/{path}") for path in _CUSTOMER_IDS)
    for kind, (_supplier, customer) in _PARTY_PATHS.items()
}
_X_FIRST_LINE_CURRENCY = _xpath("string((cac:InvoiceLine|cac:CreditNoteLine|cac:OrderLine/cac:LineItem)"
                                "[1]/cbc:LineExtensionAmount/@currencyID)")  # fmt: skip

# Every line field the reader needs, for all lines at once, as one compiled union: libxml2 walks the tree in C
# and Python meets only the ~10 nodes a line that matter (a pass over each line's children costs ~25% more).
_ITEM_PARTS = (
    "", "/cbc:ID", "/cbc:LineExtensionAmount", "/cac:Item/cbc:Description", "/cac:Item/cbc:Name",
    "/cac:Item/cac:SellersItemIdentification",
    "/cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode",
)  # fmt: skip
_LINE_PARTS = {  # what only one kind has: its quantity; order line references; an order's prices
    "invoice": ("cac:InvoiceLine", ("/cbc:InvoicedQuantity", "/cac:OrderLineReference/cbc:LineID")),
    "credit_note": ("cac:CreditNoteLine", ("/cbc:CreditedQuantity", "/cac:OrderLineReference/cbc:LineID")),
    "order": ("cac:OrderLine/cac:LineItem", ("/cbc:Quantity", "/cac:Price/cbc:PriceAmount",
                                             "/cac:Price/cbc:BaseQuantity")),
}  # fmt: skip
_X_LINE_NODES = {
    kind: _xpath(" | ".join(path + part for part in (*_ITEM_PARTS, *own)))
    for kind, (path, own) in _LINE_PARTS.items()
}
_LINE_TAGS = {
    "invoice": _CAC + "InvoiceLine", "credit_note": _CAC + "CreditNoteLine", "order": _CAC + "LineItem",
}  # fmt: skip
_T_LINE_AMOUNT = _CBC + "LineExtensionAmount"
_T_QUANTITIES = frozenset({_CBC + "InvoicedQuantity", _CBC + "CreditedQuantity", _CBC + "Quantity"})
_T_LINE_ID = _CBC + "LineID"
_T_PRICE_AMOUNT = _CBC + "PriceAmount"
_T_BASE_QUANTITY = _CBC + "BaseQuantity"
_T_DESCRIPTION = _CBC + "Description"
_T_CLASSIFICATION_CODE = _CBC + "ItemClassificationCode"
_T_SELLERS_ITEM = _CAC + "SellersItemIdentification"


def _document_format(kind: str, customization: str) -> str:
    """The format name from the CustomizationID; UblError for one this reader does not know."""
    if not customization:
        raise UblError("the document has no CustomizationID, so it is neither OIOUBL nor Peppol BIS")
    version = _OIOUBL_VERSION.match(customization)
    if version:
        major, minor = version.groups()
        if major == "2":
            return "OIOUBL-2.1" if minor == "1" else "OIOUBL-2.0"
        if major == "3":
            return "OIOUBL-3"
    elif customization.upper().startswith("OIOUBL-3") or customization.startswith("urn:fdc:oioubl.dk:"):
        return "OIOUBL-3"
    elif kind == "order" and customization.startswith("urn:fdc:peppol.eu:poacc:trns:order:3"):
        return "PEPPOL-BIS3-ORDER"
    elif kind != "order" and "urn:fdc:peppol.eu:2017:poacc:" in customization:
        return "PEPPOL-BIS3"
    raise UblError(
        f"unknown e-document format (CustomizationID {customization!r}) for this {kind.replace('_', ' ')}; "
        "expected OIOUBL 2.x/3 or Peppol BIS 3"
    )


def cvr_from_identifier(value: str | None, scheme: str | None) -> str | None:
    """The 8-digit CVR an identifier names, or None: scheme DK:CVR or 0184; 'DK' prefix, spaces stripped."""
    if not value or scheme is None or scheme.strip().upper() not in CVR_SCHEMES:
        return None
    cleaned = _WHITESPACE.sub("", value).upper()
    if cleaned.startswith("0184:"):  # a Peppol participant id written out in full
        cleaned = cleaned[5:]
    if cleaned.startswith("DK"):
        cleaned = cleaned[2:]
    return cleaned if len(cleaned) == 8 and cleaned.isascii() and cleaned.isdigit() else None


def _identifiers(
    groups: list[str], root: etree._Element, xpaths: tuple[etree.XPath, ...]
) -> list[tuple[str, str]]:
    """(schemeID, value) of a party's identifiers in priority order, from the header's (count, scheme, value)
    triples; a kind that occurs more than once is read element by element."""
    counts = groups[0::3]
    if all(count in ("0", "1") for count in counts):
        return [
            (scheme, value)
            for count, scheme, value in zip(counts, groups[1::3], groups[2::3], strict=True)
            if count == "1"
        ]
    return [(e.get("schemeID") or "", e.text or "") for xpath in xpaths for e in xpath(root)]


def _party_cvrs(identifiers: list[tuple[str, str]]) -> tuple[tuple[str, ...], list[str]]:
    """(every valid CVR in priority order, de-duplicated; the CVR-schemed values that were not 8 digits)."""
    found: list[str] = []
    invalid: list[str] = []
    for scheme, value in identifiers:
        if scheme.strip().upper() not in CVR_SCHEMES:
            continue
        cvr = cvr_from_identifier(value, scheme)
        if cvr is None:
            invalid.append(value.strip())
        elif cvr not in found:
            found.append(cvr)
    return tuple(found), invalid


def _party_gln(identifiers: list[tuple[str, str]]) -> str | None:
    """The first 13-digit GLN (schemeID GLN or 0088) among the identifiers."""
    for scheme, value in identifiers:
        if scheme.strip().upper() in GLN_SCHEMES:
            digits = _WHITESPACE.sub("", value)
            if len(digits) == 13 and digits.isdigit():
                return digits
    return None


def normalise_order_number(value: str | None) -> str | None:
    """METHODS 5: trim, upper-case, remove inner white space, strip leading zeros of an all-digit number;
    placeholders (NA, N/A, N.A., 0, -, INGEN, NONE, NULL, blank) give None."""
    if value is None:
        return None
    text = _WHITESPACE.sub("", value).upper()
    if text in ORDER_NUMBER_PLACEHOLDERS:
        return None
    if text.isascii() and text.isdigit():
        text = text.lstrip("0")
    return text or None


def _decimal(text: str | None, what: str) -> Decimal:
    try:
        value = Decimal(text or "")  # Decimal itself ignores surrounding white space
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise UblError(f"{what} is not a number: {(text or '').strip()!r}")
    return value


# Slots of a line's raw texts while its nodes are walked (a list per line: the cheapest record in CPython).
_LINE_ID, _AMOUNT, _QUANTITY, _ORDER_LINE, _PRICE, _BASE, _DESCRIPTION, _NAME, _ITEM, _UNSPSC = range(10)
_SLOTS = {
    _T_ID: _LINE_ID,  # only the line's own: the item's ID is read under SellersItemIdentification
    _T_LINE_AMOUNT: _AMOUNT,
    **dict.fromkeys(_T_QUANTITIES, _QUANTITY),
    _T_LINE_ID: _ORDER_LINE,
    _T_PRICE_AMOUNT: _PRICE,
    _T_BASE_QUANTITY: _BASE,
    _T_DESCRIPTION: _DESCRIPTION,
    _T_NAME: _NAME,
}


def _text(node: etree._Element) -> str | None:
    text = node.text
    if text is None:
        return None
    return text.strip() or None


def _read_lines(root: etree._Element, kind: str) -> tuple[UblLine, ...]:
    line_tag = _LINE_TAGS[kind]
    collected: list[list] = []
    texts: list = [None] * 10
    for node in _X_LINE_NODES[kind](root):
        tag = node.tag
        slot = _SLOTS.get(tag)
        if slot is not None:
            if texts[slot] is None:  # the first one counts (an item may have several descriptions)
                texts[slot] = node.text
        elif tag == line_tag:
            texts = [None] * 10
            collected.append(texts)
        elif tag == _T_SELLERS_ITEM and texts[_ITEM] is None:
            texts[_ITEM] = next((child.text for child in node if child.tag == _T_ID), None)
        elif (
            tag == _T_CLASSIFICATION_CODE
            and texts[_UNSPSC] is None
            and (node.get("listID") or "").strip().upper() in UNSPSC_LISTS
        ):
            digits = _WHITESPACE.sub("", node.text or "")
            if len(digits) == 8 and digits.isdigit():
                texts[_UNSPSC] = digits
    credit_note = kind == "credit_note"
    return tuple(_to_line(texts, index, credit_note, kind) for index, texts in enumerate(collected, start=1))


def _strip(text: str | None) -> str | None:
    return (text.strip() or None) if text else None


def _to_line(texts: list, index: int, credit_note: bool, kind: str) -> UblLine:
    line_id = _strip(texts[_LINE_ID])
    amount_text, quantity_text = texts[_AMOUNT], texts[_QUANTITY]
    label = f"line {line_id or index}"  # only for the messages
    quantity = None
    if quantity_text is not None and not quantity_text.isspace():
        quantity = _decimal(quantity_text, f"the quantity of {label}")
    if amount_text is not None:
        document_amount = _decimal(amount_text, f"the net amount (LineExtensionAmount) of {label}")
    elif kind == "order" and texts[_PRICE] is not None and quantity is not None:
        # Peppol orders may leave the line amount out: price x quantity / base quantity.
        price = _decimal(texts[_PRICE], f"the price of {label}")
        base = Decimal(1)
        if texts[_BASE] is not None:
            base = _decimal(texts[_BASE], f"the base quantity of {label}") or Decimal(1)
        document_amount = (price * quantity / base).quantize(_TWO_PLACES, ROUND_HALF_UP)
    else:
        raise UblError(f"{label} has no net amount (LineExtensionAmount)")
    return _new_tuple(
        UblLine,
        (
            line_id or str(index),
            -abs(document_amount) if credit_note else document_amount,  # METHODS 1: whatever the sign
            document_amount,
            texts[_UNSPSC],
            _strip(texts[_ORDER_LINE]),
            _strip(texts[_DESCRIPTION]) or _strip(texts[_NAME]),
            quantity,
            _strip(texts[_ITEM]),
        ),
    )


def _read(data: bytes, source: str, require_supplier_cvr: bool) -> UblDocument:
    root = _parse_xml(data)
    kind = _ROOTS.get(root.tag)
    if kind is None:
        local = etree.QName(root).localname if isinstance(root.tag, str) else "?"
        if local in ("Invoice", "CreditNote", "Order"):
            raise UblError(
                f"the root element {local} is not in the UBL namespace "
                f"({etree.QName(root).namespace or 'none'})"
            )
        raise UblError(f"not an invoice, credit note or order (root element: {local})")
    header = _X_HEADER[kind](root).split("\n")
    (
        customization, number, issue_text, currency, raw_reference, billing_reference, agreement,
        supplier_count, supplier_name, registration_name,
    ) = header[:10]  # fmt: skip
    fmt = _document_format(kind, customization)
    if not number:
        raise UblError(f"the {kind.replace('_', ' ')} has no number (cbc:ID)")
    try:
        issue_date = date.fromisoformat(issue_text[:10])
    except ValueError:
        raise UblError(f"the issue date (cbc:IssueDate) is missing or not a date: {issue_text!r}") from None
    if supplier_count == "0" and kind != "order":
        raise UblError("the document has no supplier party (AccountingSupplierParty)")
    cvrs, invalid = _party_cvrs(_identifiers(header[10:19], root, _X_SUPPLIER_IDS[kind]))
    if require_supplier_cvr and not cvrs and kind != "order":
        family = "Peppol" if fmt.startswith("PEPPOL") else "OIOUBL"
        if invalid:
            raise UblError(
                f"the supplier party's CVR {invalid[0]!r} is not 8 digits ({family} document); "
                "cannot attribute it to a supplier"
            )
        raise UblError(
            f"the supplier party names no Danish CVR ({family} document); cannot attribute it to a supplier"
        )
    order_reference = None
    if kind == "order":
        billing_reference = ""
    else:
        agreement = ""
        order_reference = raw_reference if normalise_order_number(raw_reference) else None
        if kind == "invoice":
            billing_reference = ""

    lines = _read_lines(root, kind)
    if not lines:
        raise UblError(f"the {kind.replace('_', ' ')} has no lines")

    currency = currency or _X_FIRST_LINE_CURRENCY(root).strip() or "DKK"
    return UblDocument(
        format=fmt,
        document_type=kind,
        id=number,
        issue_date=issue_date,
        supplier_cvr=cvrs[0] if cvrs else None,
        supplier_cvrs=cvrs,
        supplier_name=supplier_name or registration_name or None,
        buyer_gln=_party_gln(_identifiers(header[19:25], root, _X_CUSTOMER_IDS[kind])),
        order_reference=order_reference,
        billing_reference=billing_reference or None,
        currency=currency.upper(),
        lines=lines,
        customization_id=customization,
        agreement_number=agreement or None,
        source=source,
    )


def read_document(data: bytes, source: str = "") -> UblDocument:
    """Read one e-invoice, credit note or e-order as the pipeline uses it.

    Raises UblError(reason) when the file is not a usable document, including an invoice or credit note
    whose supplier names no Danish CVR (the pipeline quarantines it with that reason). An order without a CVR
    is kept.
    """
    return _read(data, source, require_supplier_cvr=True)


def parse_document(data: bytes, source: str = "") -> UblDocument:
    """Like `read_document` but keeps an invoice whose supplier names no Danish CVR (supplier_cvr None).

    For looking at such a document (tests, debugging); the pipeline uses `read_document`."""
    return _read(data, source, require_supplier_cvr=False)


def read_file(path: Path | str) -> UblDocument:
    """`read_document` of a file; an unreadable file is a UblError too."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UblError(f"the file cannot be read: {exc.strerror or exc}") from None
    return read_document(data, str(path))


# ----------------------------------------------------------------------------------------- inspect JSON


def _money(value: Decimal) -> str:
    value = value.quantize(_TWO_PLACES, ROUND_HALF_UP)
    return str(value.copy_abs() if value.is_zero() else value)  # never "-0.00"


def _plain(value: Decimal | None) -> str | None:
    """A decimal as canonical text: '.' decimals, no exponent, two decimals unless it has more."""
    if value is None:
        return None
    if value.as_tuple().exponent >= -2:  # type: ignore[operator]
        value = value.quantize(_TWO_PLACES)
    return format(value, "f")


def to_inspect_json(doc: UblDocument) -> dict:
    """The document as `ehandel inspect` prints it (DATA_CONTRACT.md); amounts as strings with 2 decimals."""
    return {
        "format": doc.format,
        "document_type": doc.document_type,
        "id": doc.id,
        "issue_date": doc.issue_date.isoformat(),
        "supplier_cvr": doc.supplier_cvr,
        "supplier_cvrs": list(doc.supplier_cvrs),
        "supplier_name": doc.supplier_name,
        "buyer_gln": doc.buyer_gln,
        "order_reference": doc.order_reference,
        "billing_reference": doc.billing_reference,
        "currency": doc.currency,
        "net_amount": _money(doc.net_amount),
        "line_count": doc.line_count,
        "lines": [
            {
                "line_id": line.line_id,
                "amount": _money(line.amount),
                "unspsc": line.unspsc,
                "order_line_reference": line.order_line_reference,
                "description": line.description,
                "quantity": None if line.quantity is None else format(line.quantity, "f"),
                "item_number": line.item_number,
            }
            for line in doc.lines
        ],
    }


def inspect_file(path: Path | str) -> tuple[str, int]:
    """(JSON text, exit code) for `ehandel inspect FILE`: the document and 0, or {"error": reason} and 1."""
    try:
        doc = read_file(path)
    except UblError as exc:
        return json.dumps({"error": exc.reason}, ensure_ascii=False), 1
    return json.dumps(to_inspect_json(doc), ensure_ascii=False, indent=2), 0


# ------------------------------------------------------------------------------------ canonical raw rows


def invoice_line_rows(doc: UblDocument, file_id: str) -> list[dict]:
    """The raw ingest rows of an invoice or credit note, in the CSV reader's canonical columns (text values).

    `beloeb` keeps the sign as written in the document; staging makes credit-note lines negative."""
    if doc.document_type == "order":
        raise ValueError(f"{doc.id} is an order: use order_line_rows")
    common = {
        "file_id": file_id,
        "kommunekode": None,  # the delivery folder decides
        "fakturanummer": doc.id,
        "dokumenttype": "Kreditnota" if doc.document_type == "credit_note" else "Faktura",
        "fakturadato": doc.issue_date.isoformat(),
        "leverandoer_cvr": doc.supplier_cvr,
        "leverandoer_navn": doc.supplier_name,
        "ean": doc.buyer_gln,
        "ordrenummer": doc.order_reference,
        "krediteret_fakturanummer": doc.billing_reference,
        "art": None,  # not in e-invoices: the finance system adds it
        "valuta": doc.currency,
    }
    return [
        {
            **common,
            "record_number": number,
            "leverandoer_cvrs": list(doc.supplier_cvrs),
            "linjenummer": line.line_id,
            "varebeskrivelse": line.description,
            "unspsc": line.unspsc,
            "beloeb": _plain(line.document_amount),
        }
        for number, line in enumerate(doc.lines, start=1)
    ]


def order_line_rows(doc: UblDocument, file_id: str) -> list[dict]:
    """The raw ingest rows of an e-order, in the CSV reader's canonical order columns (text values)."""
    if doc.document_type != "order":
        raise ValueError(f"{doc.id} is not an order: use invoice_line_rows")
    return [
        {
            "file_id": file_id,
            "record_number": number,
            "kommunekode": None,
            "ordrenummer": doc.id,
            "ordrelinje": line.line_id,
            "ordredato": doc.issue_date.isoformat(),
            "leverandoer_cvr": doc.supplier_cvr,
            "leverandoer_cvrs": list(doc.supplier_cvrs),
            "leverandoer_navn": doc.supplier_name,
            "varenummer": line.item_number,
            "varebeskrivelse": line.description,
            "unspsc": line.unspsc,
            "antal": _plain(line.quantity),
            "beloeb": _plain(line.document_amount),
            "ordretype": "e-ordre",
            "aftalenummer": doc.agreement_number,
            "valuta": doc.currency,
        }
        for number, line in enumerate(doc.lines, start=1)
    ]


# ----------------------------------------------------------------------------------------- batch parsing

ParseResult = tuple[Path, str, UblDocument | UblError]


def _parse_one(path: str) -> tuple[str, UblDocument | UblError]:
    """(sha256 of the bytes, document or error) of one file; '' as the hash when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return "", UblError(f"the file cannot be read: {exc.strerror or exc}")
    digest = hashlib.sha256(data).hexdigest()
    try:
        return digest, read_document(data, path)
    except UblError as exc:
        return digest, exc


def _parse_chunk(paths: list[str]) -> list[tuple[str, UblDocument | UblError]]:
    # Paths go out and come back as plain strings (the caller keeps its Path objects): cheaper to pickle.
    return [_parse_one(path) for path in paths]


def parse_files(
    paths: Iterable[Path | str], processes: int = 2, chunk_size: int = 256, mp_context: str | None = None
) -> Iterator[ParseResult]:
    """Yield (path, sha256 hex of the file's bytes, UblDocument or UblError) for every path, in input order.

    Chunks of `chunk_size` files go to a pool of `processes` worker processes, with a bounded number of chunks
    in flight so memory stays flat however many files there are. Small batches (or processes <= 1) are read in
    this process, where starting a pool would cost more than it saves. The hash is '' for a file that cannot
    be read (its error says why). `mp_context` ("fork", "forkserver", "spawn") overrides the platform's
    default start method, e.g. "forkserver" from a process that runs threads.
    """
    items = [Path(p) for p in paths]
    if processes <= 1 or len(items) <= chunk_size:
        for path in items:
            yield (path, *_parse_one(str(path)))
        return
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    in_flight: deque[tuple[list[Path], Future[list[tuple[str, UblDocument | UblError]]]]] = deque()
    max_in_flight = processes * 3
    context = multiprocessing.get_context(mp_context) if mp_context else None
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        next_chunk = 0
        while next_chunk < len(chunks) or in_flight:
            while next_chunk < len(chunks) and len(in_flight) < max_in_flight:
                chunk = chunks[next_chunk]
                in_flight.append((chunk, pool.submit(_parse_chunk, [str(p) for p in chunk])))
                next_chunk += 1
            chunk, future = in_flight.popleft()
            for path, (digest, result) in zip(chunk, future.result(), strict=True):
                yield path, digest, result


def default_processes() -> int:
    """Worker processes for `parse_files`: the machine's cores, at least 1."""
    return max(1, os.cpu_count() or 1)
