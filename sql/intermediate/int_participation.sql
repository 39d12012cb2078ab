-- Grain: one row per (year, kommunekode) of a municipality that delivered anything dated in the year.
-- Implements METHODS 6 (participation): a municipality participates in year Y when it has accepted invoice
-- lines (invoice date in Y) and accepted order lines (order date in Y). Line counts are after
-- de-duplication (METHODS 1). Only municipalities of reference.kommuner are counted.
with invoice_years as (
    select year, kommunekode, sum(line_count) as invoice_lines, sum(documents) as invoice_documents
    from intermediate.int_invoice_cells
    group by year, kommunekode
),

order_years as (
    select year, kommunekode, sum(line_count) as order_lines, count(*) as orders
    from intermediate.int_orders
    group by year, kommunekode
),

municipalities as (
    select kommunekode, kommunenavn, regionskode, regionsnavn from reference.kommuner
),

final as (
    select
        coalesce(invoice_years.year, order_years.year) as year,
        coalesce(invoice_years.kommunekode, order_years.kommunekode) as kommunekode,
        municipalities.kommunenavn,
        municipalities.regionskode,
        municipalities.regionsnavn,
        cast(coalesce(invoice_years.invoice_lines, 0) as bigint) as invoice_lines,
        cast(coalesce(order_years.order_lines, 0) as bigint) as order_lines,
        cast(coalesce(invoice_years.invoice_documents, 0) as bigint) as invoice_documents,
        cast(coalesce(order_years.orders, 0) as bigint) as orders,
        coalesce(invoice_years.invoice_lines, 0) > 0 and coalesce(order_years.order_lines, 0) > 0 as participating
    from invoice_years
    full outer join order_years
        on invoice_years.year = order_years.year
        and invoice_years.kommunekode = order_years.kommunekode
    inner join municipalities
        on coalesce(invoice_years.kommunekode, order_years.kommunekode) = municipalities.kommunekode
)

select * from final
