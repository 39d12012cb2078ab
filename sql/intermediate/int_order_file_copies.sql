-- materialized: incremental by file_id of orders
-- Grain: one row per copy of an order document in one delivered content (file_id), i.e. per
-- (kommunekode, supplier_cvr, order_number_norm, order_date) x file_id.
-- The one pass over the staged order lines (METHODS 1 for orders: an order is identified by its municipality,
-- supplier CVR (null for an XML order naming no Danish CVR), normalised order number and order date, so
-- '0005002701' and '5002701' delivered as a CSV row and as an XML order are one order). Computed once per
-- content, when it is new (pipelines/warehouse.py materialise_incremental). It carries the copy's totals
-- (METHODS 5, 7: total_kr, fritekst, order types, CVR list), so that int_orders works on copies, not lines,
-- and line_ids_distinct: true when the copy's order_line_ids are provably all different (the integers 1-64, as
-- many distinct bits as lines). Only a copy where it is false can repeat a line (METHODS 1: counted once);
-- int_orders takes those from int_order_lines.
-- order_hash: hash() of the order key; copies of an order share it (int_order_copy_ranks).
-- Grouped by the content's integer file_key, not its file_id and kommunekode (one per file_key, joined after), as
-- int_invoice_file_copies.
with order_lines as (
    select
        file_key,
        source_format,
        record_number,
        supplier_cvr,
        order_number_norm,
        order_date,
        supplier_cvrs,
        amount_kr,
        order_type,
        try_cast(order_line_id as integer) as line_number
    from staging.stg_order_lines
),

copies as (
    select
        file_key,
        supplier_cvr,
        order_number_norm,
        order_date,
        any_value(source_format) as source_format,  -- one per content
        count(*) as line_rows,
        min(record_number) as first_record,
        any_value(supplier_cvrs) as listed_cvrs,  -- the seller party's CVR list (XML); null for CSV
        sum(amount_kr) as total_kr,
        -- the order types of the copy: the four known ones as bits, any other in a list
        bit_or(case order_type when 'e-ordre' then 1 when 'fritekst' then 2 when 'katalog' then 4 when 'punchout' then 8 end)
            as known_types,
        list(order_type) filter (where order_type not in ('e-ordre', 'fritekst', 'katalog', 'punchout')) as other_types,
        -- as many distinct bits as lines: every line_id is one of 1-64 and no two are the same
        coalesce(
            bit_count(bit_or(case when line_number between 1 and 64 then 1::ubigint << (line_number - 1) end))
                = count(*),
            false
        ) as line_ids_distinct
    from order_lines
    group by file_key, supplier_cvr, order_number_norm, order_date
),

final as (
    select
        files.file_id,
        copies.file_key,
        hash(files.kommunekode, copies.supplier_cvr, copies.order_number_norm, copies.order_date) as order_hash,
        files.kommunekode,  -- the folder's, as every line's (staging.stg_order_lines)
        copies.supplier_cvr,
        copies.order_number_norm,
        copies.order_date,
        cast(year(copies.order_date) as integer) as year,
        copies.source_format,
        line_rows,
        first_record,
        -- every CVR the seller party names, the primary one included (METHODS 5: a CVR in common)
        party_cvrs(copies.supplier_cvr, listed_cvrs) as supplier_cvrs,
        cast(total_kr as decimal(18, 2)) as total_kr,
        coalesce(known_types & 2 <> 0, false) as is_fritekst,
        -- the distinct order types, sorted
        list_sort(list_distinct(list_concat(
            case when known_types & 1 <> 0 then ['e-ordre'] else [] end,
            case when known_types & 2 <> 0 then ['fritekst'] else [] end,
            case when known_types & 4 <> 0 then ['katalog'] else [] end,
            case when known_types & 8 <> 0 then ['punchout'] else [] end,
            coalesce(other_types, [])
        ))) as order_types,
        line_ids_distinct
    from copies
    inner join staging.stg_files as files on copies.file_key = files.file_key
)

select * from final
