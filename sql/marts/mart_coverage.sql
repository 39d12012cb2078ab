-- Grain: one row per (year, kommunekode) of every municipality of reference.kommuner, for every year in which
-- any municipality delivered something dated in it: a municipality that delivered nothing is listed too, with
-- 0 lines, so the coverage says who is missing. METHODS 6: which municipalities are measured. invoice_lines /
-- order_lines are accepted, de-duplicated lines (METHODS 1); participating = both kinds delivered for the year.
with participation as (
    select * from intermediate.int_participation
),

years as (
    select distinct year from participation
),

municipalities as (
    select kommunekode, kommunenavn, regionsnavn from reference.kommuner
),

final as (
    select
        years.year,
        municipalities.kommunekode,
        municipalities.kommunenavn,
        municipalities.regionsnavn,
        coalesce(participation.invoice_lines, 0) as invoice_lines,
        coalesce(participation.order_lines, 0) as order_lines,
        coalesce(participation.invoice_documents, 0) as invoice_documents,
        coalesce(participation.orders, 0) as orders,
        coalesce(participation.participating, false) as participating
    from years
    cross join municipalities
    left join participation
        on years.year = participation.year
        and municipalities.kommunekode = participation.kommunekode
)

select * from final
order by year, kommunekode
