-- materialized: incremental by kommunekode
-- Grain: one row per combination of (year, kommunekode, supplier_cvr, industry, document_type and the flags
-- the marts count by: has_goods, is_purchase, is_ehandel, is_fritekst, is_fakturamatch, has_order_number),
-- with the number of documents and their totals. int_invoices summed once: every figure per municipality,
-- industry or year (METHODS 4-7, the data-quality page, participation) is a sum over these cells, and
-- distinct suppliers are counted over their supplier_cvr (METHODS 9).
with invoices as (
    select * from intermediate.int_invoices
),

final as (
    select
        year,
        kommunekode,
        supplier_cvr,
        industry_code,
        industry_name,
        document_type,
        goods_lines > 0 as has_goods,
        is_purchase,
        is_ehandel,
        is_fritekst,
        is_fakturamatch,
        order_number_norm is not null as has_order_number,
        count(*) as documents,
        cast(sum(line_count) as bigint) as line_count,
        cast(sum(goods_lines) as bigint) as goods_lines,
        cast(sum(not_goods_lines) as bigint) as not_goods_lines,
        cast(sum(unclassified_lines) as bigint) as unclassified_lines,
        sum(total_kr) as total_kr,
        sum(goods_spend_kr) as goods_spend_kr,
        sum(unclassified_spend_kr) as unclassified_spend_kr
    from invoices
    group by all
)

select * from final
