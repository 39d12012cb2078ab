-- materialized: view
-- Grain: one row per de-duplicated order (order_id): (kommunekode, supplier_cvr, order_number_norm, order_date).
-- The order's total over all its lines (METHODS 7), its supplier CVRs (METHODS 5) and whether it is a
-- free-text order (any fritekst line makes the order fritekst, METHODS 5 "heraf fritekst").
-- The totals are the winning copy's (int_order_document_copies); a copy that repeats an order_line_id is
-- totalled over its kept lines only (int_order_lines, METHODS 1). A view over the copies: the supplier CVR
-- list is the copy's, already sorted and with the primary CVR (int_order_copy_totals).
with winning_copies as (
    select * from intermediate.int_order_document_copies
    where is_winning_copy
),

repeating_copy_totals as (
    select
        order_lines.order_id,
        count(*) as line_count,
        sum(order_lines.amount_kr) as total_kr,
        bool_or(order_lines.order_type = 'fritekst') as is_fritekst,
        list_sort(list_distinct(list(order_lines.order_type))) as order_types
    from intermediate.int_order_lines as order_lines
    where not order_lines.line_ids_distinct
    group by order_lines.order_id
),

orders as (
    select
        winning_copies.order_id,
        winning_copies.kommunekode,
        winning_copies.supplier_cvr,
        winning_copies.supplier_cvrs,
        winning_copies.order_number_norm,
        winning_copies.order_date,
        winning_copies.year,
        winning_copies.source_format,
        case when winning_copies.line_ids_distinct then winning_copies.line_rows
            else repeating_copy_totals.line_count end as line_count,
        case when winning_copies.line_ids_distinct then winning_copies.total_kr
            else repeating_copy_totals.total_kr end as total_kr,
        case when winning_copies.line_ids_distinct then winning_copies.is_fritekst
            else repeating_copy_totals.is_fritekst end as is_fritekst,
        case when winning_copies.line_ids_distinct then winning_copies.order_types
            else repeating_copy_totals.order_types end as order_types
    from winning_copies
    left join repeating_copy_totals on winning_copies.order_id = repeating_copy_totals.order_id
),

final as (
    select
        order_id,
        kommunekode,
        supplier_cvr,
        supplier_cvrs,
        order_number_norm,
        order_date,
        year,
        source_format,
        line_count,
        cast(total_kr as decimal(18, 2)) as total_kr,
        is_fritekst,
        order_types
    from orders
)

select * from final
