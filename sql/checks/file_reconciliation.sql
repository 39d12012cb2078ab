-- asset: marts.mart_ingest_log
-- severity: ERROR
-- description: Hver leveret fil går op: læste rækker = accepterede + rækker i karantæne + dubletter.
-- One row per delivered file that does not reconcile, with the years its rows are dated in.
with log as (
    select * from marts.mart_ingest_log
),

file_years as (
    select file_id, list(distinct year order by year) as years from ingest.invoice_lines group by file_id
    union all
    select file_id, list(distinct year order by year) from ingest.order_lines group by file_id
),

final as (
    select log.source_file, log.kommunekode, log.rows_read, log.rows_accepted, log.rows_quarantined,
           log.rows_duplicate, coalesce(file_years.years, []) as years
    from log
    left join file_years using (file_id)
    where not log.reconciled
)

select * from final
order by source_file
