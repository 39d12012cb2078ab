-- materialized: view
-- staging.stg_invoice_lines: one row per accepted invoice / credit-note line of a content that is delivered
-- now (docs/staging_contract.md). A view: the rows were typed once, when their file was loaded.
with final as (
    select
        d.file_id,
        l.file_key,
        l.record_number,
        d.source_format,
        d.source_file,
        d.delivered_at,
        l.kommunekode,
        l.document_type,
        l.document_number,
        l.issue_date,
        cast(year(l.issue_date) as integer) as year,
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
        left(l.unspsc, 2) as unspsc_segment,
        l.art,
        l.amount_kr
    from ingest.invoice_rows l
    join staging.stg_files d using (file_key)
    where l.reject_reason is null
)

select * from final
