-- materialized: view
-- Grain: one row per de-duplicated invoice or credit-note document (document_id), with everything the marts
-- count: purchase (METHODS 4), e-handel (METHODS 5, credit notes through their own order number or the
-- invoice they credit), fritekst, fakturamatch (METHODS 7, invoices only) and the supplier's DB07
-- hovedgruppe (METHODS 6; a CVR missing from the register, or a branchekode whose first two digits are not
-- a DB07 hovedgruppe, is industry '00' "Ukendt branche").
-- A view over the documents and their matches: the marts count from int_invoice_cells, made from it once.
with documents as (
    select * from intermediate.int_invoice_documents
),

matches as (
    select * from intermediate.int_invoice_order_matches
),

ehandel as (
    select document_id, ehandel_via from intermediate.int_ehandel_documents
),

suppliers as (
    select cvr, min(branchekode) as branchekode
    from reference.leverandoerer
    group by cvr
),

industries as (
    select hovedgruppe, titel from reference.db07_hovedgrupper
),

final as (
    select
        documents.document_id,
        documents.kommunekode,
        documents.year,
        documents.document_type,
        documents.document_number,
        documents.issue_date,
        documents.supplier_cvr,
        documents.supplier_cvrs,
        documents.order_number_norm,
        documents.credited_document_number,
        documents.source_format,
        documents.line_count,
        documents.goods_lines,
        documents.total_kr,
        documents.goods_spend_kr,
        documents.unclassified_spend_kr,
        documents.not_goods_lines,
        documents.unclassified_lines,
        documents.is_purchase,
        matches.matched_order_id,
        matches.candidate_orders,
        matches.order_total_kr,
        ehandel.ehandel_via,
        ehandel.document_id is not null as is_ehandel,
        coalesce(matches.is_fritekst, false) as is_fritekst,
        documents.document_type = 'invoice' and coalesce(matches.is_fakturamatch, false) as is_fakturamatch,
        coalesce(industries.hovedgruppe, '00') as industry_code,
        coalesce(industries.titel, 'Ukendt branche') as industry_name
    from documents
    left join matches on documents.document_id = matches.document_id
    left join ehandel on documents.document_id = ehandel.document_id
    left join suppliers on documents.supplier_cvr = suppliers.cvr
    left join industries on left(suppliers.branchekode, 2) = industries.hovedgruppe
)

select * from final
