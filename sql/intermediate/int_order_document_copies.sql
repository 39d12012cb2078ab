-- materialized: view
-- Grain: one row per copy of an order document, i.e. per
-- (kommunekode, supplier_cvr, order_number_norm, order_date) x delivered file (file_id).
-- Implements METHODS 1 for orders: the same order delivered more than once counts once; its winning copy's
-- lines replace every line of the other copies (the ranking: int_order_copy_ranks). The copy's totals are
-- those of the one pass over the lines (int_order_copy_totals).
-- order_id: a unique integer per order, the same for all its copies: the lowest copy_number of its copies (a
-- copy is numbered by its file and its first record there, int_order_copy_totals). Where orders are ranked,
-- their key decides, not order_id.
with copies as (
    select * from intermediate.int_order_copy_totals
),

ranks as (
    select * from intermediate.int_order_copy_ranks
),

final as (
    select
        coalesce(ranks.order_id, copies.copy_number) as order_id,
        copies.kommunekode,
        copies.supplier_cvr,
        copies.order_number_norm,
        copies.order_date,
        copies.file_id,
        copies.source_format,
        copies.line_rows,
        coalesce(ranks.copies_delivered, 1) as copies_delivered,
        coalesce(ranks.is_winning_copy, true) as is_winning_copy,
        -- orders delivered more than once: the winning copy's file (null for an order delivered once)
        case when ranks.copies_delivered > 1 then ranks.winning_file_id end as winning_file_id,
        case when ranks.copies_delivered > 1 then ranks.winning_source_file end as winning_source_file,
        copies.year,
        copies.supplier_cvrs,
        copies.total_kr,
        copies.is_fritekst,
        copies.order_types,
        copies.line_ids_distinct
    from copies
    left join ranks on copies.copy_number = ranks.copy_number
)

select * from final
