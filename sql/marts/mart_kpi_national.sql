-- Grain: one row per year with at least one participating municipality.
-- METHODS 6: every figure pooled over the municipalities participating in the year (sums over sums);
-- growth like-for-like over the municipalities participating in both Y and Y-1 (null the first year);
-- largest category = the largest national e-handel spend (ties: alphabetical); most traded = the largest
-- share of e-handel purchases (ties: larger e-handel spend, then alphabetical); typical industry = the
-- hovedgruppe typical in most participating municipalities (ties: a known industry before '00', then the
-- lowest code). METHODS 7: fakturamatch rate, transaction cost and potential saving, pooled.
with figures as (
    select * from intermediate.int_municipality_figures
),

participating as (
    select * from figures where participating
),

totals as (
    select
        year,
        count(*) as participating_municipalities,
        sum(goods_spend_kr) as goods_spend_kr,
        sum(ehandel_spend_kr) as ehandel_spend_kr,
        sum(goods_purchases) as goods_purchases,
        sum(ehandel_purchases) as ehandel_purchases,
        sum(fritekst_purchases) as fritekst_purchases,
        sum(fakturamatch_purchases) as fakturamatch_purchases,
        sum(transaction_cost_kr) as transaction_cost_kr,
        sum(transaction_cost_kr - fakturamatch_cost_kr) as potential_saving_kr,
        sum(unclassified_spend_kr) as unclassified_spend_kr
    from participating
    group by year
),

delivering as (
    select year, count(*) as delivering_municipalities
    from figures
    group by year
),

like_for_like as (
    select
        this_year.year,
        count(*) as growth_municipalities,
        sum(this_year.ehandel_spend_kr) as ehandel_spend_kr,
        sum(last_year.ehandel_spend_kr) as previous_ehandel_spend_kr
    from participating as this_year
    inner join participating as last_year
        on this_year.kommunekode = last_year.kommunekode
        and this_year.year = last_year.year + 1
    group by this_year.year
),

largest_category as (
    select year, category, ehandel_spend_kr, ehandel_purchases
    from marts.mart_category_national
    qualify row_number() over (partition by year order by ehandel_spend_kr desc, category) = 1
),

most_traded_category as (
    select year, category, ehandel_purchase_share
    from marts.mart_category_national
    where ehandel_purchase_share is not null
    qualify row_number() over (
        partition by year
        order by ehandel_purchase_share desc, ehandel_spend_kr desc, category
    ) = 1
),

typical_industry as (
    select year, industry_code, industry_name, typical_municipalities
    from marts.mart_industry_national
    where typical_municipalities > 0
    qualify row_number() over (
        partition by year
        order by typical_municipalities desc, industry_code = '00', industry_code
    ) = 1
),

final as (
    select
        totals.year,
        totals.participating_municipalities,
        cast(totals.goods_spend_kr as decimal(18, 2)) as goods_spend_kr,
        cast(totals.ehandel_spend_kr as decimal(18, 2)) as ehandel_spend_kr,
        cast(totals.ehandel_spend_kr as double) / nullif(cast(totals.goods_spend_kr as double), 0) as share_spend,
        cast(totals.goods_purchases as bigint) as goods_purchases,
        cast(totals.ehandel_purchases as bigint) as ehandel_purchases,
        cast(totals.ehandel_purchases as double) / nullif(cast(totals.goods_purchases as double), 0)
            as share_purchases,
        cast(like_for_like.ehandel_spend_kr as double)
            / nullif(cast(like_for_like.previous_ehandel_spend_kr as double), 0) - 1 as growth_ehandel_spend,
        largest_category.category as largest_category,
        largest_category.ehandel_spend_kr as largest_category_ehandel_spend_kr,
        largest_category.ehandel_purchases as largest_category_ehandel_purchases,
        most_traded_category.category as most_traded_category,
        most_traded_category.ehandel_purchase_share as most_traded_category_share,
        typical_industry.industry_code as typical_industry_code,
        typical_industry.industry_name as typical_industry_name,
        typical_industry.typical_municipalities as typical_industry_municipalities,
        cast(totals.fakturamatch_purchases as double) / nullif(cast(totals.ehandel_purchases as double), 0)
            as fakturamatch_rate,
        cast(totals.fritekst_purchases as bigint) as fritekst_purchases,
        cast(totals.fakturamatch_purchases as bigint) as fakturamatch_purchases,
        cast(totals.transaction_cost_kr as decimal(18, 2)) as transaction_cost_kr,
        cast(totals.potential_saving_kr as decimal(18, 2)) as potential_saving_kr,
        cast(totals.unclassified_spend_kr as decimal(18, 2)) as unclassified_spend_kr,
        coalesce(like_for_like.growth_municipalities, 0) as growth_municipalities,
        delivering.delivering_municipalities
    from totals
    inner join delivering on totals.year = delivering.year
    left join like_for_like on totals.year = like_for_like.year
    left join largest_category on totals.year = largest_category.year
    left join most_traded_category on totals.year = most_traded_category.year
    left join typical_industry on totals.year = typical_industry.year
)

select * from final
order by year
