-- materialized: incremental by kommunekode
-- Grain: one row per credit note (document_id, with its kommunekode) that is e-handel through the invoice it
-- credits (METHODS 5): its credited document number is the number of an invoice of the same municipality that is
-- e-handel through its own order number (int_invoice_order_matches), and the two documents have a supplier CVR
-- in common.
with credit_notes as (
    select document_id, kommunekode, credited_document_number, supplier_cvrs
    from intermediate.int_invoice_documents
    where document_type = 'credit_note' and credited_document_number is not null and in_changed_units(kommunekode)
),

ehandel_invoices as (
    select document_id, kommunekode, document_number, supplier_cvrs
    from intermediate.int_invoice_order_matches
    where document_type = 'invoice' and in_changed_units(kommunekode)
),

final as (
    select distinct credit_notes.document_id, credit_notes.kommunekode
    from credit_notes
    inner join ehandel_invoices
        on credit_notes.kommunekode = ehandel_invoices.kommunekode
        and credit_notes.credited_document_number = ehandel_invoices.document_number
    where list_has_any(credit_notes.supplier_cvrs, ehandel_invoices.supplier_cvrs)
)

select * from final
