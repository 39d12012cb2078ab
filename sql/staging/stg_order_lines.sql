-- materialized: view
-- staging.stg_order_lines: one row per accepted order line of a content that is delivered now
-- (docs/staging_contract.md). A view: the rows were typed once, when their file was loaded.
with final as (
    select
        d.file_id,
        l.file_key,
        l.record_number,
        d.source_format,
        d.source_file,
        d.delivered_at,
        l.kommunekode,
        l.order_number,
        l.order_number_norm,
        l.order_line_id,
        l.order_date,
        cast(year(l.order_date) as integer) as year,
        l.supplier_cvr,
        l.supplier_cvrs,
        l.supplier_name,
        l.item_number,
        l.description,
        l.unspsc,
        l.quantity,
        l.amount_kr,
        l.order_type,
        l.agreement_number
    from ingest.order_rows l
    join staging.stg_files d using (file_key)
    where l.reject_reason is null
)

select * from final
