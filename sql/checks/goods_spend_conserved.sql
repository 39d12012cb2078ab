-- asset: marts.mart_kpi_municipality
-- severity: ERROR
-- description: Varekøbet bevares fra de de-duplikerede fakturalinjer til kommunetallene: summen af varelinjernes beløb er lig forbruget pr. kommune og år.
-- One row per (year, kommunekode) where the de-duplicated goods lines and the mart disagree.
with lines as (
    select year, kommunekode, sum(amount_kr) as lines_goods_spend_kr
    from intermediate.int_invoice_lines
    where scope_class = 'goods'
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
