-- Grain: one row per (year, category), pooled over the municipalities participating in the year (METHODS 6).
-- METHODS 3, 4, 5 per category; ehandel_purchase_share = e-handel purchases with a goods line in the
-- category / all e-handel purchases (METHODS 6 "Mest handlet"); shares of different categories can add up
-- to more than 1 since a purchase counts in every category it has a goods line in.
-- supplier_count = distinct supplier CVRs nationally (METHODS 9).
with participating as (
    select year, kommunekode from intermediate.int_participation where participating
),

document_categories as (
    select document_categories.*
    from intermediate.int_invoice_categories as document_categories
    inner join participating
        on document_categories.year = participating.year
        and document_categories.kommunekode = participating.kommunekode
),

ehandel_purchase_totals as (
    select invoices.year, count(*) as ehandel_purchases
    from intermediate.int_invoices as invoices
    inner join participating
        on invoices.year = participating.year
        and invoices.kommunekode = participating.kommunekode
    where invoices.is_purchase and invoices.is_ehandel
    group by invoices.year
),

categories as (
    select
        year,
        category,
        sum(goods_spend_kr) as goods_spend_kr,
        coalesce(sum(goods_spend_kr) filter (where is_ehandel), 0) as ehandel_spend_kr,
        count(*) filter (where is_purchase) as goods_purchases,
        count(*) filter (where is_purchase and is_ehandel) as ehandel_purchases,
        count(distinct supplier_cvr) as supplier_count
    from document_categories
    group by year, category
),

final as (
    select
        categories.year,
        categories.category,
        cast(categories.goods_spend_kr as decimal(18, 2)) as goods_spend_kr,
        cast(categories.ehandel_spend_kr as decimal(18, 2)) as ehandel_spend_kr,
        categories.goods_purchases,
        categories.ehandel_purchases,
        cast(categories.ehandel_spend_kr as double) / nullif(cast(categories.goods_spend_kr as double), 0)
            as share_spend,
        cast(categories.ehandel_purchases as double) / nullif(categories.goods_purchases, 0) as share_purchases,
        cast(categories.ehandel_purchases as double) / nullif(ehandel_purchase_totals.ehandel_purchases, 0)
            as ehandel_purchase_share,
        categories.supplier_count
    from categories
    left join ehandel_purchase_totals on categories.year = ehandel_purchase_totals.year
)

select * from final
order by year, category
