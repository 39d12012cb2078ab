-- Grain: one row per (year, aftalenummer, category), pooled over the municipalities participating in the
-- year (METHODS 6, 8): compliance_share = sum of agreement spend / sum of category spend.
with participating as (
    select year, kommunekode from intermediate.int_participation where participating
),

agreement_spend as (
    select agreement_spend.*
    from intermediate.int_agreement_spend as agreement_spend
    inner join participating
        on agreement_spend.year = participating.year
        and agreement_spend.kommunekode = participating.kommunekode
),

pooled as (
    select
        year,
        aftalenummer,
        any_value(aftale_navn) as aftale_navn,
        category,
        sum(category_spend_kr) as category_spend_kr,
        sum(agreement_spend_kr) as agreement_spend_kr
    from agreement_spend
    group by year, aftalenummer, category
),

final as (
    select
        year,
        aftalenummer,
        aftale_navn,
        category,
        cast(category_spend_kr as decimal(18, 2)) as category_spend_kr,
        cast(agreement_spend_kr as decimal(18, 2)) as agreement_spend_kr,
        cast(agreement_spend_kr as double) / nullif(cast(category_spend_kr as double), 0) as compliance_share
    from pooled
)

select * from final
order by year, aftalenummer, category
