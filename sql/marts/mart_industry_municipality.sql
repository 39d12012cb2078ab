-- Grain: one row per (year, kommunekode, industry_code) with goods spend from suppliers of the DB07
-- hovedgruppe in a delivering municipality ('00' = "Ukendt branche": CVR not in the supplier register).
-- METHODS 4, 5, 6 per industry; e-handel figures null where the municipality does not participate.
-- supplier_count for disclosure control (METHODS 9), applied by the published report.
with industries as (
    select * from intermediate.int_municipality_industries
),

participation as (
    select year, kommunekode, participating from intermediate.int_participation
),

final as (
    select
        industries.year,
        industries.kommunekode,
        industries.industry_code,
        industries.industry_name,
        participation.participating,
        industries.goods_spend_kr,
        case when participation.participating then industries.ehandel_spend_kr end as ehandel_spend_kr,
        industries.goods_purchases,
        case when participation.participating then industries.ehandel_purchases end as ehandel_purchases,
        case when participation.participating
            then cast(industries.ehandel_spend_kr as double) / nullif(cast(industries.goods_spend_kr as double), 0)
        end as share_spend,
        case when participation.participating
            then cast(industries.ehandel_purchases as double) / nullif(industries.goods_purchases, 0)
        end as share_purchases,
        industries.supplier_count,
        participation.participating and industries.is_typical as is_typical
    from industries
    inner join participation
        on industries.year = participation.year
        and industries.kommunekode = participation.kommunekode
)

select * from final
order by year, kommunekode, industry_code
