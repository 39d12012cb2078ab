-- Grain: one row per (year, industry_code), pooled over the municipalities participating in the year
-- (METHODS 6). Goods spend, e-handel spend and purchases by the supplier's DB07 hovedgruppe;
-- typical_municipalities = participating municipalities where the hovedgruppe is the typical one.
-- supplier_count = distinct supplier CVRs nationally (METHODS 9).
with participating as (
    select year, kommunekode from intermediate.int_participation where participating
),

invoice_cells as (
    select invoice_cells.*
    from intermediate.int_invoice_cells as invoice_cells
    inner join participating
        on invoice_cells.year = participating.year
        and invoice_cells.kommunekode = participating.kommunekode
    where invoice_cells.has_goods
),

typical_counts as (
    select industries.year, industries.industry_code, count(*) as typical_municipalities
    from intermediate.int_municipality_industries as industries
    inner join participating
        on industries.year = participating.year
        and industries.kommunekode = participating.kommunekode
    where industries.is_typical
    group by industries.year, industries.industry_code
),

industries as (
    select
        year,
        industry_code,
        any_value(industry_name) as industry_name,
        sum(goods_spend_kr) as goods_spend_kr,
        coalesce(sum(goods_spend_kr) filter (where is_ehandel), 0) as ehandel_spend_kr,
        coalesce(cast(sum(documents) filter (where is_purchase) as bigint), 0) as goods_purchases,
        coalesce(cast(sum(documents) filter (where is_purchase and is_ehandel) as bigint), 0) as ehandel_purchases,
        count(distinct supplier_cvr) as supplier_count
    from invoice_cells
    group by year, industry_code
),

final as (
    select
        industries.year,
        industries.industry_code,
        industries.industry_name,
        cast(industries.goods_spend_kr as decimal(18, 2)) as goods_spend_kr,
        cast(industries.ehandel_spend_kr as decimal(18, 2)) as ehandel_spend_kr,
        industries.goods_purchases,
        industries.ehandel_purchases,
        cast(industries.ehandel_spend_kr as double) / nullif(cast(industries.goods_spend_kr as double), 0)
            as share_spend,
        cast(industries.ehandel_purchases as double) / nullif(industries.goods_purchases, 0) as share_purchases,
        industries.supplier_count,
        coalesce(typical_counts.typical_municipalities, 0) as typical_municipalities
    from industries
    left join typical_counts
        on industries.year = typical_counts.year
        and industries.industry_code = typical_counts.industry_code
)

select * from final
order by year, industry_code
