-- materialized: view
-- staging.stg_order_lines: one row per accepted order line of a content that is delivered now
-- (docs/staging_contract.md). A view: the rows were typed once, when their file was loaded.
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
        l.order_number,
        l.order_number_norm,
        l.order_line_id,
        l.order_date,
        l.year,
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
    from ingest.order_lines l
    join deliveries d using (file_id)
    where l.reject_reason is null
)

select * from final
