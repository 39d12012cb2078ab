-- Grain: one row per copy of an order document, i.e. per
-- (kommunekode, supplier_cvr, order_number_norm, order_date) x delivered file (file_id).
-- Implements METHODS 1 for orders. An order is identified by its municipality, supplier CVR (null for an
-- XML order naming no Danish CVR), normalised order number and order date, so '0005002701' and '5002701'
-- delivered as a CSV row and as an XML order are one order. Winning copy as for invoices: CSV before
-- XML, then the later delivery, then the later source_file, then file_id.
-- order_id is a dense integer over the order key, used by every later table.
with order_lines as (
    select
        file_id,
        source_format,
        source_file,
        delivered_at,
        kommunekode,
        supplier_cvr,
        order_number_norm,
        order_date
    from staging.stg_order_lines
),

copies as (
    select
        kommunekode,
        supplier_cvr,
        order_number_norm,
        order_date,
        file_id,
        any_value(source_format) as source_format,
        any_value(source_file) as source_file,
        max(delivered_at) as delivered_at,
        count(*) as line_rows
    from order_lines
    group by kommunekode, supplier_cvr, order_number_norm, order_date, file_id
),

ranked as (
    select
        *,
        row_number() over copy_order as copy_rank,
        first_value(file_id) over copy_order as winning_file_id,
        first_value(source_file) over copy_order as winning_source_file,
        count(*) over (
            partition by kommunekode, supplier_cvr, order_number_norm, order_date
        ) as copies_delivered
    from copies
    window copy_order as (
        partition by kommunekode, supplier_cvr, order_number_norm, order_date
        order by
            case when source_format = 'csv' then 0 else 1 end,
            delivered_at desc nulls last,
            source_file desc,
            file_id
    )
),

final as (
    select
        dense_rank() over (
            order by kommunekode, supplier_cvr nulls first, order_number_norm, order_date
        ) as order_id,
        kommunekode,
        supplier_cvr,
        order_number_norm,
        order_date,
        file_id,
        source_format,
        source_file,
        delivered_at,
        line_rows,
        copies_delivered,
        copy_rank = 1 as is_winning_copy,
        winning_file_id,
        winning_source_file
    from ranked
)

select * from final
