-- Grain: one row per (year, kommunekode, industry_code) with goods spend from the industry's suppliers.
-- Implements the industry breakdown (METHODS 4, 5 per DB07 hovedgruppe) and METHODS 6 "Leverandørens
-- typiske branche": is_typical marks, per municipality and year, the hovedgruppe with the largest positive
-- e-handel spend (ties: a known industry before "Ukendt branche" '00', then the lowest code).
-- supplier_count = distinct supplier CVRs with a goods line in the cell (METHODS 9 disclosure control).
with invoice_cells as (
    select * from intermediate.int_invoice_cells
    where has_goods
),

cells as (
    select
        year,
        kommunekode,
        industry_code,
        any_value(industry_name) as industry_name,
        sum(goods_spend_kr) as goods_spend_kr,
        coalesce(sum(goods_spend_kr) filter (where is_ehandel), 0) as ehandel_spend_kr,
        coalesce(cast(sum(documents) filter (where is_purchase) as bigint), 0) as goods_purchases,
        coalesce(cast(sum(documents) filter (where is_purchase and is_ehandel) as bigint), 0) as ehandel_purchases,
        count(distinct supplier_cvr) as supplier_count
    from invoice_cells
    group by year, kommunekode, industry_code
),

ranked as (
    select
        *,
        case
            when ehandel_spend_kr > 0
                then row_number() over (
                    partition by year, kommunekode
                    order by ehandel_spend_kr desc, industry_code = '00', industry_code
                )
        end as ehandel_spend_rank
    from cells
),

final as (
    select
        year,
        kommunekode,
        industry_code,
        industry_name,
        cast(goods_spend_kr as decimal(18, 2)) as goods_spend_kr,
        cast(ehandel_spend_kr as decimal(18, 2)) as ehandel_spend_kr,
        goods_purchases,
        ehandel_purchases,
        supplier_count,
        coalesce(ehandel_spend_rank = 1, false) as is_typical
    from ranked
)

select * from final
