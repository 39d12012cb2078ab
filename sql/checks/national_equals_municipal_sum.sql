-- asset: marts.mart_kpi_national
-- severity: ERROR
-- description: Landstallet er summen af de deltagende kommuner: antal kommuner, forbrug, e-handel og indkøb pr. år.
-- One row per year where kpi_national differs from the sum over participating municipalities.
with municipal as (
    select year, count(*) as participating_municipalities, sum(goods_spend_kr) as goods_spend_kr,
           sum(ehandel_spend_kr) as ehandel_spend_kr, sum(goods_purchases) as goods_purchases,
           sum(ehandel_purchases) as ehandel_purchases
    from marts.mart_kpi_municipality
    where participating
    group by year
),

national as (
    select year, participating_municipalities, goods_spend_kr, ehandel_spend_kr, goods_purchases, ehandel_purchases
    from marts.mart_kpi_national
),

final as (
    select coalesce(n.year, m.year) as year,
           n.participating_municipalities as national_municipalities, m.participating_municipalities as sum_municipalities,
           n.goods_spend_kr as national_goods_spend_kr, m.goods_spend_kr as sum_goods_spend_kr,
           n.ehandel_spend_kr as national_ehandel_spend_kr, m.ehandel_spend_kr as sum_ehandel_spend_kr,
           n.goods_purchases as national_goods_purchases, m.goods_purchases as sum_goods_purchases,
           n.ehandel_purchases as national_ehandel_purchases, m.ehandel_purchases as sum_ehandel_purchases
    from national n
    full outer join municipal m on n.year = m.year
    where n.participating_municipalities is distinct from m.participating_municipalities
       or coalesce(n.goods_spend_kr, 0) <> coalesce(m.goods_spend_kr, 0)
       or coalesce(n.ehandel_spend_kr, 0) <> coalesce(m.ehandel_spend_kr, 0)
       or coalesce(n.goods_purchases, 0) <> coalesce(m.goods_purchases, 0)
       or coalesce(n.ehandel_purchases, 0) <> coalesce(m.ehandel_purchases, 0)
)

select * from final
