-- Grain: one row per (year, kommunekode) of every municipality of reference.kommuner that delivered
-- anything dated in the year, participating or not.
-- METHODS 4-7 per municipality. A municipality that does not participate (METHODS 6) keeps what it
-- delivered (goods spend, purchases and unclassified kr. when it delivered invoices) and has null e-handel
-- figures, shares, ranks and comparisons ("ikke opgjort").
-- Comparisons, among the municipalities participating in the year, pooled (sums over sums):
-- rank_* (1 = highest share, ties share a rank), size_quintile (1 = smallest goods spend),
-- region_share_* (the region's participating municipalities), peer_share_* (the same size quintile),
-- national_share_* (all participating municipalities, as in mart_kpi_national).
-- growth_ehandel_spend = e-handel spend Y / Y-1 - 1 when the municipality participates in both years.
with figures as (
    select * from intermediate.int_municipality_figures
),

measured as (
    select
        *,
        cast(ehandel_spend_kr as double) / nullif(cast(goods_spend_kr as double), 0) as share_spend,
        cast(ehandel_purchases as double) / nullif(goods_purchases, 0) as share_purchases,
        ntile(5) over (partition by year order by goods_spend_kr, kommunekode) as size_quintile
    from figures
    where participating
),

compared as (
    select
        *,
        case when share_spend is not null
            then rank() over (partition by year order by share_spend desc nulls last)
        end as rank_share_spend,
        case when share_purchases is not null
            then rank() over (partition by year order by share_purchases desc nulls last)
        end as rank_share_purchases,
        cast(sum(ehandel_spend_kr) over (partition by year, regionskode) as double)
            / nullif(cast(sum(goods_spend_kr) over (partition by year, regionskode) as double), 0)
            as region_share_spend,
        cast(sum(ehandel_purchases) over (partition by year, regionskode) as double)
            / nullif(sum(goods_purchases) over (partition by year, regionskode), 0)
            as region_share_purchases,
        cast(sum(ehandel_spend_kr) over (partition by year, size_quintile) as double)
            / nullif(cast(sum(goods_spend_kr) over (partition by year, size_quintile) as double), 0)
            as peer_share_spend,
        cast(sum(ehandel_purchases) over (partition by year, size_quintile) as double)
            / nullif(sum(goods_purchases) over (partition by year, size_quintile), 0)
            as peer_share_purchases,
        cast(sum(ehandel_spend_kr) over (partition by year) as double)
            / nullif(cast(sum(goods_spend_kr) over (partition by year) as double), 0)
            as national_share_spend,
        cast(sum(ehandel_purchases) over (partition by year) as double)
            / nullif(sum(goods_purchases) over (partition by year), 0)
            as national_share_purchases
    from measured
),

previous_year as (
    select year + 1 as year, kommunekode, ehandel_spend_kr as previous_ehandel_spend_kr
    from figures
    where participating
),

final as (
    select
        figures.year,
        figures.kommunekode,
        figures.kommunenavn,
        figures.regionsnavn,
        figures.participating,
        case when figures.delivered_invoices then figures.goods_spend_kr end as goods_spend_kr,
        compared.ehandel_spend_kr,
        compared.share_spend,
        case when figures.delivered_invoices then figures.goods_purchases end as goods_purchases,
        compared.ehandel_purchases,
        compared.share_purchases,
        compared.fritekst_purchases,
        cast(compared.fakturamatch_purchases as double) / nullif(compared.ehandel_purchases, 0)
            as fakturamatch_rate,
        compared.typical_industry_code,
        compared.transaction_cost_kr,
        cast(compared.transaction_cost_kr - compared.fakturamatch_cost_kr as decimal(18, 2))
            as potential_saving_kr,
        compared.fakturamatch_purchases,
        cast(compared.ehandel_spend_kr as double)
            / nullif(cast(previous_year.previous_ehandel_spend_kr as double), 0) - 1 as growth_ehandel_spend,
        compared.typical_industry_name,
        case when figures.delivered_invoices then figures.unclassified_spend_kr end as unclassified_spend_kr,
        compared.rank_share_spend,
        compared.rank_share_purchases,
        compared.size_quintile,
        compared.region_share_spend,
        compared.region_share_purchases,
        compared.peer_share_spend,
        compared.peer_share_purchases,
        compared.national_share_spend,
        compared.national_share_purchases
    from figures
    left join compared
        on figures.year = compared.year
        and figures.kommunekode = compared.kommunekode
    left join previous_year
        on compared.year = previous_year.year
        and compared.kommunekode = previous_year.kommunekode
)

select * from final
order by year, kommunekode
