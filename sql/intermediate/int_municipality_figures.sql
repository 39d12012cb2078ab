-- Grain: one row per (year, kommunekode) of a municipality that delivered anything dated in the year
-- (participating or not). The municipality's totals before the marts decide what is published:
-- METHODS 4 (goods spend, purchases), 5 (e-handel, fritekst), 6 (participation, typical industry),
-- 7 (fakturamatch, transaction cost: fakturamatch x 68 + other e-handel x 99 + other purchases x 130 kr.,
-- rates from reference.transaktionsomkostninger; potential saving = that cost - purchases x 68).
with participation as (
    select * from intermediate.int_participation
),

invoice_figures as (
    select
        year,
        kommunekode,
        sum(goods_spend_kr) as goods_spend_kr,
        coalesce(sum(goods_spend_kr) filter (where is_ehandel), 0) as ehandel_spend_kr,
        coalesce(cast(sum(documents) filter (where is_purchase) as bigint), 0) as goods_purchases,
        coalesce(cast(sum(documents) filter (where is_purchase and is_ehandel) as bigint), 0) as ehandel_purchases,
        coalesce(cast(sum(documents) filter (where is_purchase and is_ehandel and is_fritekst) as bigint), 0)
            as fritekst_purchases,
        coalesce(cast(sum(documents) filter (where is_purchase and is_fakturamatch) as bigint), 0)
            as fakturamatch_purchases,
        sum(unclassified_spend_kr) as unclassified_spend_kr
    from intermediate.int_invoice_cells
    group by year, kommunekode
),

typical_industries as (
    select year, kommunekode, industry_code, industry_name
    from intermediate.int_municipality_industries
    where is_typical
),

rates as (
    select
        max(cast(kr_pr_indkoeb as decimal(18, 2))) filter (where kanal = 'fakturamatch') as fakturamatch_kr,
        max(cast(kr_pr_indkoeb as decimal(18, 2))) filter (where kanal = 'ehandel') as ehandel_kr,
        max(cast(kr_pr_indkoeb as decimal(18, 2))) filter (where kanal = 'mail_telefon_web') as other_kr
    from reference.transaktionsomkostninger
),

final as (
    select
        participation.year,
        participation.kommunekode,
        participation.kommunenavn,
        participation.regionskode,
        participation.regionsnavn,
        participation.participating,
        participation.invoice_lines,
        participation.order_lines,
        participation.invoice_lines > 0 as delivered_invoices,
        participation.order_lines > 0 as delivered_orders,
        cast(coalesce(invoice_figures.goods_spend_kr, 0) as decimal(18, 2)) as goods_spend_kr,
        cast(coalesce(invoice_figures.ehandel_spend_kr, 0) as decimal(18, 2)) as ehandel_spend_kr,
        coalesce(invoice_figures.goods_purchases, 0) as goods_purchases,
        coalesce(invoice_figures.ehandel_purchases, 0) as ehandel_purchases,
        coalesce(invoice_figures.fritekst_purchases, 0) as fritekst_purchases,
        coalesce(invoice_figures.fakturamatch_purchases, 0) as fakturamatch_purchases,
        cast(coalesce(invoice_figures.unclassified_spend_kr, 0) as decimal(18, 2)) as unclassified_spend_kr,
        cast(
            coalesce(invoice_figures.fakturamatch_purchases, 0) * rates.fakturamatch_kr
            + (coalesce(invoice_figures.ehandel_purchases, 0) - coalesce(invoice_figures.fakturamatch_purchases, 0))
            * rates.ehandel_kr
            + (coalesce(invoice_figures.goods_purchases, 0) - coalesce(invoice_figures.ehandel_purchases, 0))
            * rates.other_kr
            as decimal(18, 2)
        ) as transaction_cost_kr,
        cast(coalesce(invoice_figures.goods_purchases, 0) * rates.fakturamatch_kr as decimal(18, 2))
            as fakturamatch_cost_kr,
        typical_industries.industry_code as typical_industry_code,
        typical_industries.industry_name as typical_industry_name
    from participation
    cross join rates
    left join invoice_figures
        on participation.year = invoice_figures.year
        and participation.kommunekode = invoice_figures.kommunekode
    left join typical_industries
        on participation.year = typical_industries.year
        and participation.kommunekode = typical_industries.kommunekode
)

select * from final
