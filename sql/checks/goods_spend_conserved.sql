-- asset: marts.mart_kpi_municipality
-- severity: ERROR
-- description: Varekøbet bevares fra de de-duplikerede fakturalinjer til kommunetallene: summen af varelinjernes beløb er lig forbruget pr. kommune og år.
-- One row per (year, kommunekode) where the de-duplicated goods lines and the mart disagree. The goods lines
-- are summed per category (int_category_cells: a pass over the lines separate from the document totals that
-- the mart is counted from).
with lines as (
    select year, kommunekode, sum(goods_spend_kr) as lines_goods_spend_kr
    from intermediate.int_category_cells
    group by year, kommunekode
),

mart as (
    select year, kommunekode, goods_spend_kr from marts.mart_kpi_municipality
),

final as (
    select coalesce(lines.year, mart.year) as year, coalesce(lines.kommunekode, mart.kommunekode) as kommunekode,
           lines.lines_goods_spend_kr, mart.goods_spend_kr as mart_goods_spend_kr
    from lines
    full outer join mart on lines.year = mart.year and lines.kommunekode = mart.kommunekode
    where coalesce(lines.lines_goods_spend_kr, 0) <> coalesce(mart.goods_spend_kr, 0)
)

select * from final
