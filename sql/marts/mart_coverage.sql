-- Grain: one row per (year, kommunekode) of every municipality that delivered anything dated in the year.
-- METHODS 6: which municipalities are measured. invoice_lines / order_lines are accepted, de-duplicated
-- lines (METHODS 1); participating = both kinds delivered for the year.
with participation as (
    select * from intermediate.int_participation
),

final as (
    select
        year,
        kommunekode,
        kommunenavn,
        regionsnavn,
        invoice_lines,
        order_lines,
        invoice_documents,
        orders,
        participating
    from participation
)

select * from final
order by year, kommunekode
