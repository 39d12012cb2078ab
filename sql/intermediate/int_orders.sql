-- Grain: one row per de-duplicated order (order_id): (kommunekode, supplier_cvr, order_number_norm, order_date).
-- The order's total over all its lines (METHODS 7), its supplier CVRs (METHODS 5) and whether it is a
-- free-text order (any fritekst line makes the order fritekst, METHODS 5 "heraf fritekst").
with order_lines as (
    select * from intermediate.int_order_lines
),

orders as (
    select
        order_id,
        any_value(kommunekode) as kommunekode,
        any_value(supplier_cvr) as supplier_cvr,
        any_value(supplier_cvrs) as supplier_cvrs,
        any_value(order_number_norm) as order_number_norm,
        any_value(order_date) as order_date,
        any_value(year) as year,
        any_value(source_format) as source_format,
        count(*) as line_count,
        sum(amount_kr) as total_kr,
        bool_or(order_type = 'fritekst') as is_fritekst,
        list_sort(list_distinct(list(order_type))) as order_types
    from order_lines
    group by order_id
),

final as (
    select
        order_id,
        kommunekode,
        supplier_cvr,
        list_sort(list_distinct(list_filter(list_prepend(supplier_cvr, coalesce(supplier_cvrs, [])), lambda x: x is not null)))
            as supplier_cvrs,
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
