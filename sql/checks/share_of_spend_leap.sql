-- asset: marts.mart_kpi_municipality
-- severity: WARN
-- description: Kommunens e-handelsandel af forbruget flytter sig højst 25 procentpoint fra det ene år til det næste; større spring nævnes, så tallene kan efterprøves.
-- One row per participating municipality and year whose share_spend moved more than 25 points from the year before.
with shares as (
    select year, kommunekode, kommunenavn, share_spend,
           lag(year) over (partition by kommunekode order by year) as previous_year,
           lag(share_spend) over (partition by kommunekode order by year) as previous_share_spend
    from marts.mart_kpi_municipality
    where participating and share_spend is not null
),

final as (
    select kommunekode, kommunenavn, previous_year, year, round(previous_share_spend, 4) as previous_share_spend,
           round(share_spend, 4) as share_spend, round(share_spend - previous_share_spend, 4) as change
    from shares
    where previous_year = year - 1 and abs(share_spend - previous_share_spend) > 0.25
)

select * from final
