-- materialized: view
-- Grain: one row per line of a de-duplicated order: (order_id, order_line_id).
-- Implements METHODS 1 for orders: only the winning copy's lines survive; the same order_line_id twice in
-- that copy counts once (the first record wins). line_copies > 1 marks such a line (int_duplicate_lines).
-- A view: nothing needs the order lines stored (int_orders totals the copies); a copy whose line ids are
-- provably distinct (int_order_document_copies.line_ids_distinct, repeated here) skips the per-line window,
-- and a reader filtering on `not line_ids_distinct` reads only the few other copies' lines.
with order_lines as (
    select * from staging.stg_order_lines
),

winning_copies as (
    select
        order_id,
        file_id,
        kommunekode,
        supplier_cvr,
        order_number_norm,
        order_date,
        line_ids_distinct
    from intermediate.int_order_document_copies
    where is_winning_copy
),

lines_of_distinct_copies as (
    select
        winning_copies.order_id,
        -- constants, so that a reader filtering on them skips the other branch unread
        true as line_ids_distinct,
        order_lines.*,
        1 as line_copies
    from order_lines
    inner join winning_copies
        on order_lines.file_id = winning_copies.file_id
        and order_lines.kommunekode = winning_copies.kommunekode
        and order_lines.supplier_cvr is not distinct from winning_copies.supplier_cvr
        and order_lines.order_number_norm = winning_copies.order_number_norm
        and order_lines.order_date = winning_copies.order_date
    where winning_copies.line_ids_distinct
),

lines_of_repeating_copies as (
    select
        winning_copies.order_id,
        false as line_ids_distinct,
        order_lines.*,
        count(*) over order_line as line_copies
    from order_lines
    inner join winning_copies
        on order_lines.file_id = winning_copies.file_id
        and order_lines.kommunekode = winning_copies.kommunekode
        and order_lines.supplier_cvr is not distinct from winning_copies.supplier_cvr
        and order_lines.order_number_norm = winning_copies.order_number_norm
        and order_lines.order_date = winning_copies.order_date
    where not winning_copies.line_ids_distinct
    window order_line as (
        partition by winning_copies.order_id, coalesce(order_lines.order_line_id, '#' || order_lines.record_number)
    )
    qualify row_number() over (
        partition by winning_copies.order_id, coalesce(order_lines.order_line_id, '#' || order_lines.record_number)
        order by order_lines.record_number
    ) = 1
),

kept_lines as (
    select * from lines_of_distinct_copies
    union all
    select * from lines_of_repeating_copies
),

final as (
    select
        order_id,
        file_id,
        record_number,
        source_format,
        source_file,
        kommunekode,
        order_number_norm,
        order_date,
        year,
        supplier_cvr,
        party_cvrs(supplier_cvr, supplier_cvrs) as supplier_cvrs,
        order_line_id,
        amount_kr,
        order_type,
        agreement_number,
        line_copies,
        line_ids_distinct
    from kept_lines
)

select * from final
