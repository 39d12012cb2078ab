-- asset: intermediate.int_invoice_copy_totals
-- severity: ERROR
-- description: Hver fakturalinje står i præcis én afgrænsningsklasse: vare, ikke vare eller uklassificeret, og varelinjerne er de samme pr. kategori.
-- Counted per document from the one pass over the lines, not line by line: one row per document whose goods,
-- not-goods and unclassified lines do not add up to its kept lines, and one row per (year, kommunekode)
-- whose goods lines differ from the goods lines per category (a second, separate pass over the lines).
with documents as (
    select document_id, kommunekode, year, line_count, goods_lines, not_goods_lines, unclassified_lines
    from intermediate.int_invoice_documents
),

unbalanced_documents as (
    select
        kommunekode,
        year,
        document_id,
        line_count,
        goods_lines,
        not_goods_lines,
        unclassified_lines,
        cast(null as bigint) as category_goods_lines
    from documents
    where goods_lines + not_goods_lines + unclassified_lines is distinct from line_count
        or least(goods_lines, not_goods_lines, unclassified_lines) < 0
),

municipality_goods_lines as (
    select year, kommunekode, sum(goods_lines) as goods_lines
    from intermediate.int_invoice_cells
    group by year, kommunekode
),

category_goods_lines as (
    select year, kommunekode, sum(goods_lines) as goods_lines
    from intermediate.int_category_cells
    group by year, kommunekode
),

unbalanced_municipalities as (
    select
        coalesce(m.kommunekode, c.kommunekode) as kommunekode,
        coalesce(m.year, c.year) as year,
        cast(null as bigint) as document_id,
        cast(null as bigint) as line_count,
        cast(m.goods_lines as bigint) as goods_lines,
        cast(null as bigint) as not_goods_lines,
        cast(null as bigint) as unclassified_lines,
        cast(c.goods_lines as bigint) as category_goods_lines
    from municipality_goods_lines as m
    full outer join category_goods_lines as c on m.year = c.year and m.kommunekode = c.kommunekode
    where coalesce(m.goods_lines, 0) <> coalesce(c.goods_lines, 0)
),

final as (
    select * from unbalanced_documents
    union all
    select * from unbalanced_municipalities
)

select * from final
