-- asset: marts.mart_ingest_log
-- severity: ERROR
-- description: Hver leveret fil går op: læste rækker = accepterede + rækker i karantæne + dubletter.
-- One row per delivered file that does not reconcile, with the years its rows are dated in (read only for those
-- files: when every file reconciles, no line is read).
with unreconciled as (
    select * from marts.mart_ingest_log where reconciled is not true
),

file_years as (
    select file_id, list(distinct year order by year) as years from ingest.invoice_lines
    where file_id in (select file_id from unreconciled)
    group by file_id
    union all
    select file_id, list(distinct year order by year) from ingest.order_lines
    where file_id in (select file_id from unreconciled)
    group by file_id
),

final as (
    select unreconciled.source_file, unreconciled.kommunekode, unreconciled.rows_read, unreconciled.rows_accepted,
           unreconciled.rows_quarantined, unreconciled.rows_duplicate, coalesce(file_years.years, []) as years
    from unreconciled
    left join file_years using (file_id)
)

select * from final
order by source_file
