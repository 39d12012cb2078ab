-- Grain: one row per (year, kommunekode, aftalenummer, category) with goods spend in a category covered by
-- a framework agreement, within its validity period, in a delivering municipality (METHODS 8).
-- compliance_share = agreement_spend_kr / category_spend_kr (null when the category spend is 0).
-- category_suppliers, agreement_suppliers, other_suppliers: the distinct suppliers behind each part, for the
-- disclosure rule (METHODS 9, reports/render.py); not published.
with agreement_spend as (
    select * from intermediate.int_agreement_spend
),

participation as (
    select year, kommunekode, participating from intermediate.int_participation
),

final as (
    select
        agreement_spend.year,
        agreement_spend.kommunekode,
        agreement_spend.aftalenummer,
        agreement_spend.aftale_navn,
        agreement_spend.category,
        participation.participating,
        agreement_spend.category_spend_kr,
        agreement_spend.agreement_spend_kr,
        cast(agreement_spend.agreement_spend_kr as double)
            / nullif(cast(agreement_spend.category_spend_kr as double), 0) as compliance_share,
        agreement_spend.category_suppliers,
        agreement_spend.agreement_suppliers,
        agreement_spend.other_suppliers
    from agreement_spend
    inner join participation
        on agreement_spend.year = participation.year
        and agreement_spend.kommunekode = participation.kommunekode
)

select * from final
order by year, kommunekode, aftalenummer, category
