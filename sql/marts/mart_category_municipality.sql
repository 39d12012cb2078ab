-- Grain: one row per (year, kommunekode, category) with a goods line of the category in a delivering
-- municipality. METHODS 3, 4, 5 per category. E-handel figures are null where the municipality does not
-- participate (METHODS 6: not measured). supplier_count is for disclosure control (METHODS 9): the
-- published report hides cells built from fewer than 3 suppliers; this internal mart does not.
with categories as (
    select * from intermediate.int_municipality_categories
),

participation as (
    select year, kommunekode, participating from intermediate.int_participation
),

final as (
    select
        categories.year,
        categories.kommunekode,
        categories.category,
        participation.participating,
        categories.goods_spend_kr,
        case when participation.participating then categories.ehandel_spend_kr end as ehandel_spend_kr,
        categories.goods_purchases,
        case when participation.participating then categories.ehandel_purchases end as ehandel_purchases,
        case when participation.participating
            then cast(categories.ehandel_spend_kr as double) / nullif(cast(categories.goods_spend_kr as double), 0)
        end as share_spend,
        case when participation.participating
            then cast(categories.ehandel_purchases as double) / nullif(categories.goods_purchases, 0)
        end as share_purchases,
        categories.supplier_count
    from categories
    inner join participation
        on categories.year = participation.year
        and categories.kommunekode = participation.kommunekode
)

select * from final
order by year, kommunekode, category
