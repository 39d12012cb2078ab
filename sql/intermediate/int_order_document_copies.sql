-- Grain: one row per copy of an order document, i.e. per
-- (kommunekode, supplier_cvr, order_number_norm, order_date) x delivered file (file_id).
-- Implements METHODS 1 for orders. An order is identified by its municipality, supplier CVR (null for an
-- XML order naming no Danish CVR), normalised order number and order date, so '0005002701' and '5002701'
-- delivered as a CSV row and as an XML order are one order. Winning copy as for invoices: CSV before
-- XML, then the later delivery, then the later source_file, then file_id.
-- order_id is a dense integer over the order key, used by every later table.
-- The one pass over the staged lines also carries the copy's totals (METHODS 5, 7: total_kr, fritekst, order
-- types, CVR list), so that int_orders works on copies, not lines, and line_ids_distinct: true when the copy's
-- order_line_ids are provably all different (the integers 1-64, as many distinct bits as lines). Only a copy
-- where it is false can repeat a line (METHODS 1: counted once); int_orders takes those from int_order_lines.
with order_lines as (
    select
        file_id,
        source_format,
        source_file,
        delivered_at,
        kommunekode,
        supplier_cvr,
        order_number_norm,
        order_date,
        year,
        supplier_cvrs,
        amount_kr,
        order_type,
        try_cast(order_line_id as integer) as line_number
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
        count(*) as line_rows,
        any_value(year) as year,
        any_value(supplier_cvrs) as supplier_cvrs,
        sum(amount_kr) as total_kr,
        bool_or(order_type = 'fritekst') as is_fritekst,
        list_sort(list_distinct(list(order_type))) as order_types,
        coalesce(
            bool_and(coalesce(line_number between 1 and 64, false))
            and bit_count(bit_or(case when line_number between 1 and 64 then 1::ubigint << (line_number - 1) end))
                = count(*),
            false
        ) as line_ids_distinct
    from order_lines
    group by kommunekode, supplier_cvr, order_number_norm, order_date, file_id
),

-- order_id and the copy ranking: most orders come once, so only orders delivered more than once are ranked
-- by a window; the dense numbering is a row_number over the distinct order keys
orders as (
    select
        kommunekode,
        supplier_cvr,
        order_number_norm,
        order_date,
        count(*) as copies_delivered
    from copies
    group by kommunekode, supplier_cvr, order_number_norm, order_date
),

numbered_orders as (
    select
        *,
        row_number() over (
            order by kommunekode, supplier_cvr nulls first, order_number_norm, order_date
        ) as order_id
    from orders
),

numbered_copies as (
    select
        numbered_orders.order_id,
        numbered_orders.copies_delivered,
        copies.*
    from copies
    inner join numbered_orders
        on copies.kommunekode = numbered_orders.kommunekode
        and copies.supplier_cvr is not distinct from numbered_orders.supplier_cvr
        and copies.order_number_norm = numbered_orders.order_number_norm
        and copies.order_date = numbered_orders.order_date
),

single_copies as (
    select
        *,
        1 as copy_rank,
        file_id as winning_file_id,
        source_file as winning_source_file
    from numbered_copies
    where copies_delivered = 1
),

ranked_copies as (
    select
        *,
        row_number() over copy_order as copy_rank,
        first_value(file_id) over copy_order as winning_file_id,
        first_value(source_file) over copy_order as winning_source_file
    from numbered_copies
    where copies_delivered > 1
    window copy_order as (
        partition by order_id
        order by
            case when source_format = 'csv' then 0 else 1 end,
            delivered_at desc nulls last,
            source_file desc,
            file_id
    )
),

ranked as (
    select * from single_copies
    union all
    select * from ranked_copies
),

final as (
    select
        order_id,
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
        winning_source_file,
        year,
        supplier_cvrs,
        total_kr,
        is_fritekst,
        order_types,
        line_ids_distinct
    from ranked
)

select * from final
