-- materialized: view
-- Grain: one row per e-handel invoice or credit note (document_id), and how (METHODS 5): through its own order
-- number (int_invoice_order_matches) or, for a credit note, through the e-handel invoice it credits
-- (int_invoice_credit_matches). The one definition of e-handel that int_invoices and int_category_cells read.
with order_number as (
    select document_id, 'order_number' as ehandel_via from intermediate.int_invoice_order_matches
),

credited_invoice as (
    select document_id, 'credited_invoice' as ehandel_via from intermediate.int_invoice_credit_matches
    where document_id not in (select document_id from order_number)
),

final as (
    select * from order_number
    union all
    select * from credited_invoice
)

select * from final
