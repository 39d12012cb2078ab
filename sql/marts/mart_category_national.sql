-- Grain: one row per (year, category), pooled over the municipalities participating in the year (METHODS 6).
-- METHODS 3, 4, 5 per category; ehandel_purchase_share = e-handel purchases with a goods line in the
-- category / all e-handel purchases (METHODS 6 "Mest handlet"); shares of different categories can add up
-- to more than 1 since a purchase counts in every category it has a goods line in.
-- supplier_count = distinct supplier CVRs nationally (METHODS 9).
with participating as (
    select year, kommunekode from intermediate.int_participation where participating
),

category_cells as (
    select category_cells.*
    from intermediate.int_category_cells as category_cells
    inner join participating
        on category_cells.year = participating.year
        and category_cells.kommunekode = participating.kommunekode
),

ehandel_purchase_totals as (
    select invoice_cells.year, cast(sum(invoice_cells.documents) as bigint) as ehandel_purchases
    from intermediate.int_invoice_cells as invoice_cells
    inner join participating
        on invoice_cells.year = participating.year
        and invoice_cells.kommunekode = participating.kommunekode
    where invoice_cells.is_purchase and invoice_cells.is_ehandel
    group by invoice_cells.year
),

categories as (
    select
        year,
        category,
        sum(goods_spend_kr) as goods_spend_kr,
        coalesce(sum(goods_spend_kr) filter (where is_ehandel), 0) as ehandel_spend_kr,
        coalesce(cast(sum(documents) filter (where is_purchase) as bigint), 0) as goods_purchases,
        coalesce(cast(sum(documents) filter (where is_purchase and is_ehandel) as bigint), 0) as ehandel_purchases,
        count(distinct supplier_cvr) as supplier_count
    from category_cells
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
