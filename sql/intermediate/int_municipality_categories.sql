-- Grain: one row per (year, kommunekode, category) with at least one goods line of the category.
-- Implements METHODS 3 and 4 per category: goods spend (credit notes negative), e-handel spend, purchases
-- (an invoice counts once in every category it has a goods line in) and distinct suppliers (METHODS 9).
-- Summed over int_category_cells (the document categories per supplier and flags).
with category_cells as (
    select * from intermediate.int_category_cells
),

final as (
    select
        year,
        kommunekode,
        category,
        cast(sum(goods_spend_kr) as decimal(18, 2)) as goods_spend_kr,
        cast(coalesce(sum(goods_spend_kr) filter (where is_ehandel), 0) as decimal(18, 2)) as ehandel_spend_kr,
        coalesce(cast(sum(documents) filter (where is_purchase) as bigint), 0) as goods_purchases,
        coalesce(cast(sum(documents) filter (where is_purchase and is_ehandel) as bigint), 0) as ehandel_purchases,
        count(distinct supplier_cvr) as supplier_count
    from category_cells
    group by year, kommunekode, category
)

select * from final
