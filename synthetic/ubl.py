"""OIOUBL 2.1 and Peppol BIS 3 documents as string templates (fast; names XML-escaped).

The structure follows the real documents in the project's UBL fixtures: the same namespaces,
CustomizationID/ProfileID, supplier EndpointID with scheme `DK:CVR` (OIOUBL) or `0184` (Peppol),
PartyLegalEntity/CompanyID, OrderReference/ID, BillingReference on credit notes, lines with
LineExtensionAmount and Item/CommodityClassification/ItemClassificationCode listID="UNSPSC".
OIOUBL's LegalMonetaryTotal/TaxExclusiveAmount holds the VAT, as in the official examples.
"""

from dataclasses import dataclass
from xml.sax.saxutils import escape

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ROOT_NS = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "Order": "urn:oasis:names:specification:ubl:schema:xsd:Order-2",
}
PEPPOL_BILLING = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_BILLING_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
PEPPOL_ORDER = "urn:fdc:peppol.eu:poacc:trns:order:3"
PEPPOL_ORDER_PROFILE = "urn:fdc:peppol.eu:poacc:bis:order_only:3"


@dataclass
class Line:
    line_id: str
    quantity: int
    amount_ore: int  # positive, also on credit notes
    description: str
    unspsc: str  # '' when none
    item_number: str


@dataclass
class Document:
    root: str  # Invoice | CreditNote | Order
    peppol: bool
    number: str
    issue_date: str  # ISO
    supplier_cvr: str  # '' for an order whose seller names no CVR (GLN only)
    supplier_name: str
    supplier_gln: str
    buyer_gln: str
    buyer_name: str
    order_reference: str  # '' when none (Peppol writes NA)
    billing_reference: str
    billing_date: str
    lines: list[Line]


def _kr(ore: int) -> str:
    return f"{ore // 100}.{ore % 100:02d}"


def _party(doc: Document, tag: str) -> str:
    name = escape(doc.supplier_name)
    if not doc.supplier_cvr:
        ids = (f'<cbc:EndpointID schemeID="{"0088" if doc.peppol else "GLN"}">{doc.supplier_gln}</cbc:EndpointID>'
               f"<cac:PartyIdentification><cbc:ID schemeID=\"{'0088' if doc.peppol else 'GLN'}\">"
               f"{doc.supplier_gln}</cbc:ID></cac:PartyIdentification>")  # fmt: skip
        legal = f"<cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName></cac:PartyLegalEntity>"
    elif doc.peppol:
        ids = (
            f'<cbc:EndpointID schemeID="0184">DK{doc.supplier_cvr}</cbc:EndpointID>'
            f'<cac:PartyIdentification><cbc:ID schemeID="0184">DK{doc.supplier_cvr}</cbc:ID></cac:PartyIdentification>'
        )
        legal = (
            f"<cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName>"
            f'<cbc:CompanyID schemeID="0184">DK{doc.supplier_cvr}</cbc:CompanyID></cac:PartyLegalEntity>'
        )
    else:
        ids = (
            f'<cbc:EndpointID schemeID="DK:CVR">DK{doc.supplier_cvr}</cbc:EndpointID>'
            f'<cac:PartyIdentification><cbc:ID schemeID="DK:CVR">DK{doc.supplier_cvr}</cbc:ID>'
            "</cac:PartyIdentification>"
        )
        legal = (
            f"<cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName>"
            f'<cbc:CompanyID schemeID="DK:CVR">DK{doc.supplier_cvr}</cbc:CompanyID></cac:PartyLegalEntity>'
        )
    tax = ""
    if doc.supplier_cvr and doc.root != "Order":
        scheme = (
            "<cbc:ID>VAT</cbc:ID>"
            if doc.peppol
            else (
                '<cbc:ID schemeAgencyID="320" schemeID="urn:oioubl:id:taxschemeid-1.5">63</cbc:ID><cbc:Name>Moms</cbc:Name>'
            )
        )
        company = (
            f"<cbc:CompanyID>DK{doc.supplier_cvr}</cbc:CompanyID>"
            if doc.peppol
            else f'<cbc:CompanyID schemeID="DK:SE">DK{doc.supplier_cvr}</cbc:CompanyID>'
        )
        tax = f"<cac:PartyTaxScheme>{company}<cac:TaxScheme>{scheme}</cac:TaxScheme></cac:PartyTaxScheme>"
    return (f"<cac:{tag}><cac:Party>{ids}<cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>"
            "<cac:PostalAddress><cbc:StreetName>Leverandørvej</cbc:StreetName><cbc:CityName>Dyssegård</cbc:CityName>"
            "<cbc:PostalZone>2870</cbc:PostalZone><cac:Country><cbc:IdentificationCode>DK</cbc:IdentificationCode>"
            f"</cac:Country></cac:PostalAddress>{tax}{legal}</cac:Party></cac:{tag}>")  # fmt: skip


def _buyer(doc: Document, tag: str) -> str:
    scheme = "0088" if doc.peppol else "GLN"
    agency = "" if doc.peppol else ' schemeAgencyID="9"'
    name = escape(doc.buyer_name)
    return (f"<cac:{tag}><cac:Party><cbc:EndpointID{agency} schemeID=\"{scheme}\">{doc.buyer_gln}</cbc:EndpointID>"
            f"<cac:PartyIdentification><cbc:ID{agency} schemeID=\"{scheme}\">{doc.buyer_gln}</cbc:ID>"
            f"</cac:PartyIdentification><cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>"
            "<cac:PostalAddress><cbc:CityName>Danmark</cbc:CityName><cac:Country>"
            "<cbc:IdentificationCode>DK</cbc:IdentificationCode></cac:Country></cac:PostalAddress>"
            f"<cac:PartyLegalEntity><cbc:RegistrationName>{name}</cbc:RegistrationName></cac:PartyLegalEntity>"
            f"</cac:Party></cac:{tag}>")  # fmt: skip


def _tax_category(doc: Document, tag: str) -> str:
    if doc.peppol:
        return f"<cac:{tag}><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:{tag}>"
    return (f'<cac:{tag}><cbc:ID schemeAgencyID="320" schemeID="urn:oioubl:id:taxcategoryid-1.1">StandardRated'
            '</cbc:ID><cbc:Percent>25</cbc:Percent><cac:TaxScheme><cbc:ID schemeAgencyID="320" '
            f'schemeID="urn:oioubl:id:taxschemeid-1.5">63</cbc:ID><cbc:Name>Moms</cbc:Name></cac:TaxScheme></cac:{tag}>')  # fmt: skip


def _item(doc: Document, line: Line) -> str:
    classification = ""
    if line.unspsc:
        agency = "" if doc.peppol else ' listAgencyID="113"'
        classification = (f"<cac:CommodityClassification><cbc:ItemClassificationCode{agency} listID=\"UNSPSC\">"
                          f"{line.unspsc}</cbc:ItemClassificationCode></cac:CommodityClassification>")  # fmt: skip
    text = escape(line.description)
    return (f"<cac:Item><cbc:Description>{text}</cbc:Description><cbc:Name>{text}</cbc:Name>"
            f"<cac:SellersItemIdentification><cbc:ID>{line.item_number}</cbc:ID></cac:SellersItemIdentification>"
            f"{classification}{_tax_category(doc, 'ClassifiedTaxCategory')}</cac:Item>")  # fmt: skip


def _header(doc: Document) -> str:
    if doc.root == "Order":
        custom, profile = (
            (PEPPOL_ORDER, PEPPOL_ORDER_PROFILE) if doc.peppol else (None, "Procurement-OrdSim-BilSim-1.0")
        )
    elif doc.peppol:
        custom, profile = PEPPOL_BILLING, PEPPOL_BILLING_PROFILE
    else:
        custom, profile = None, "urn:www.nesubl.eu:profiles:profile5:ver2.0"
    if doc.peppol:
        return f"<cbc:CustomizationID>{custom}</cbc:CustomizationID><cbc:ProfileID>{profile}</cbc:ProfileID>"
    return ("<cbc:UBLVersionID>2.1</cbc:UBLVersionID><cbc:CustomizationID>OIOUBL-2.1</cbc:CustomizationID>"
            f'<cbc:ProfileID schemeAgencyID="320" schemeID="urn:oioubl:id:profileid-1.2">{profile}</cbc:ProfileID>')  # fmt: skip


def render(doc: Document) -> bytes:
    """One document as UTF-8 bytes."""
    root = doc.root
    total = sum(line.amount_ore for line in doc.lines)
    vat = total // 4
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{ROOT_NS[root]}" xmlns:cac="{CAC}" '
             f'xmlns:cbc="{CBC}">', _header(doc), f"<cbc:ID>{escape(doc.number)}</cbc:ID>",
             f"<cbc:IssueDate>{doc.issue_date}</cbc:IssueDate>"]  # fmt: skip
    if root == "Invoice":
        oio = "" if doc.peppol else ' listAgencyID="320" listID="urn:oioubl:codelist:invoicetypecode-1.1"'
        parts.append(f"<cbc:InvoiceTypeCode{oio}>380</cbc:InvoiceTypeCode>")
    elif root == "CreditNote":
        oio = "" if doc.peppol else ' listAgencyID="320" listID="urn:oioubl:codelist:invoicetypecode-1.1"'
        parts.append(f"<cbc:CreditNoteTypeCode{oio}>381</cbc:CreditNoteTypeCode>")
    parts.append("<cbc:DocumentCurrencyCode>DKK</cbc:DocumentCurrencyCode>")
    if root == "Order":
        parts += [_buyer(doc, "BuyerCustomerParty"), _party(doc, "SellerSupplierParty")]
        parts.append(f'<cac:AnticipatedMonetaryTotal><cbc:LineExtensionAmount currencyID="DKK">{_kr(total)}'
                     f'</cbc:LineExtensionAmount><cbc:PayableAmount currencyID="DKK">{_kr(total + vat)}'
                     "</cbc:PayableAmount></cac:AnticipatedMonetaryTotal>")  # fmt: skip
        for line in doc.lines:
            parts.append(f"<cac:OrderLine><cac:LineItem><cbc:ID>{line.line_id}</cbc:ID>"
                         f'<cbc:Quantity unitCode="EA">{line.quantity}</cbc:Quantity>'
                         f'<cbc:LineExtensionAmount currencyID="DKK">{_kr(line.amount_ore)}</cbc:LineExtensionAmount>'
                         f'<cac:Price><cbc:PriceAmount currencyID="DKK">{_kr(line.amount_ore)}</cbc:PriceAmount>'
                         f'<cbc:BaseQuantity unitCode="EA">{line.quantity}</cbc:BaseQuantity></cac:Price>'
                         f"{_item(doc, line)}</cac:LineItem></cac:OrderLine>")  # fmt: skip
        parts.append(f"</{root}>\n")
        return "".join(parts).encode("utf-8")
    if doc.order_reference or doc.peppol:
        parts.append(
            f"<cac:OrderReference><cbc:ID>{escape(doc.order_reference or 'NA')}</cbc:ID></cac:OrderReference>"
        )
    if root == "CreditNote" and doc.billing_reference:
        parts.append(f"<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{escape(doc.billing_reference)}"
                     f"</cbc:ID><cbc:IssueDate>{doc.billing_date}</cbc:IssueDate></cac:InvoiceDocumentReference>"
                     "</cac:BillingReference>")  # fmt: skip
    parts += [_party(doc, "AccountingSupplierParty"), _buyer(doc, "AccountingCustomerParty")]
    parts.append(f'<cac:TaxTotal><cbc:TaxAmount currencyID="DKK">{_kr(vat)}</cbc:TaxAmount><cac:TaxSubtotal>'
                 f'<cbc:TaxableAmount currencyID="DKK">{_kr(total)}</cbc:TaxableAmount><cbc:TaxAmount currencyID="DKK">'
                 f"{_kr(vat)}</cbc:TaxAmount>{_tax_category(doc, 'TaxCategory')}</cac:TaxSubtotal></cac:TaxTotal>")  # fmt: skip
    # OIOUBL 2.x puts the VAT in TaxExclusiveAmount (rule F-INV127); Peppol the net amount.
    exclusive = total if doc.peppol else vat
    parts.append(f'<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="DKK">{_kr(total)}</cbc:LineExtensionAmount>'
                 f'<cbc:TaxExclusiveAmount currencyID="DKK">{_kr(exclusive)}</cbc:TaxExclusiveAmount>'
                 f'<cbc:TaxInclusiveAmount currencyID="DKK">{_kr(total + vat)}</cbc:TaxInclusiveAmount>'
                 f'<cbc:PayableAmount currencyID="DKK">{_kr(total + vat)}</cbc:PayableAmount></cac:LegalMonetaryTotal>')  # fmt: skip
    tag, qty = (
        ("InvoiceLine", "InvoicedQuantity") if root == "Invoice" else ("CreditNoteLine", "CreditedQuantity")
    )
    for line in doc.lines:
        parts.append(f"<cac:{tag}><cbc:ID>{line.line_id}</cbc:ID><cbc:{qty} unitCode=\"EA\">{line.quantity}</cbc:{qty}>"
                     f'<cbc:LineExtensionAmount currencyID="DKK">{_kr(line.amount_ore)}</cbc:LineExtensionAmount>'
                     f"{_item(doc, line)}<cac:Price><cbc:PriceAmount currencyID=\"DKK\">{_kr(line.amount_ore)}"
                     f'</cbc:PriceAmount><cbc:BaseQuantity unitCode="EA">{line.quantity}</cbc:BaseQuantity>'
                     f"</cac:Price></cac:{tag}>")  # fmt: skip
    parts.append(f"</{root}>\n")
    return "".join(parts).encode("utf-8")
