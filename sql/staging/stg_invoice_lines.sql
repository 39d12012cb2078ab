-- materialized: view
-- staging.stg_invoice_lines: one row per accepted invoice / credit-note line of a content that is delivered
-- now (docs/staging_contract.md). A view: the rows were typed once, when their file was loaded.
with deliveries as (
    select file_id, source_file, delivered_at from staging.stg_deliveries where is_first_copy
),

final as (
    select
        l.file_id,
        l.record_number,
        l.source_format,
        d.source_file,
        d.delivered_at,
        l.kommunekode,
        l.document_type,
        l.document_number,
        l.issue_date,
        l.year,
        l.supplier_cvr,
        l.supplier_cvrs,
        l.supplier_name,
        l.buyer_gln,
        l.order_number,
        l.order_number_norm,
        l.credited_document_number,
        l.line_id,
        l.description,
        l.unspsc,
        l.unspsc_segment,
        l.art,
        l.amount_kr,
        l.currency
    from ingest.invoice_lines l
    join deliveries d using (file_id)
    where l.reject_reason is null
)

select * from final
