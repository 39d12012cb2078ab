-- marts.mart_ingest_log: one row per delivered file (source_file): what was read and where every row went.
-- rows_read = rows_accepted + rows_quarantined + rows_duplicate (`reconciled`). A second delivery of the same
-- bytes under another name in the same place (kind of folder, municipality) counts all its rows as duplicates;
-- a file refused whole reads no rows.
with deliveries as (
    select *, is_first_copy as first_copy from staging.stg_deliveries
),

accepted as (
    -- every staged line of a file is kept or a duplicate: the lines of its copies, less its duplicates
    select file_id, sum(line_rows) as rows_accepted from intermediate.int_invoice_copy_totals group by file_id
    union all
    select file_id, sum(line_rows) from intermediate.int_order_copy_totals group by file_id
    union all
    select file_id, -count(*) from intermediate.int_duplicate_lines group by file_id
),

duplicates as (
    select file_id, count(*) as rows_duplicate from intermediate.int_duplicate_lines group by file_id
),

quarantined as (
    select file_id, count(*) as rows_quarantined from ingest.invoice_lines where reject_reason is not null group by file_id
    union all
    select file_id, count(*) from ingest.order_lines where reject_reason is not null group by file_id
    union all
    select file_id, count(*) from ingest.rejected_records group by file_id
),

per_file as (
    select
        f.file_id,
        f.source_format,
        f.status,
        f.reason,
        f.dialect,
        f.rows_read,
        coalesce((select sum(rows_accepted) from accepted a where a.file_id = f.file_id), 0) as rows_accepted,
        coalesce((select sum(rows_quarantined) from quarantined q where q.file_id = f.file_id), 0) as rows_quarantined,
        coalesce((select sum(rows_duplicate) from duplicates x where x.file_id = f.file_id), 0) as rows_duplicate
    from ingest.files f
),

final as (
    select
        d.source_file,
        coalesce(d.folder_kommunekode, d.folder) as kommunekode,
        d.kind,
        p.source_format,
        d.file_id,
        d.delivered_at,
        p.status,
        case
            when p.file_id is null then 'not read yet: the file changed while the run read the folder (the next run reads it)'
            when not d.first_copy then 'the same content as ' || d.first_source_file || ': counted once'
            else p.reason
        end as reason,
        p.dialect,
        cast(coalesce(p.rows_read, 0) as bigint) as rows_read,
        cast(case when d.first_copy then p.rows_accepted else 0 end as bigint) as rows_accepted,
        cast(case when d.first_copy then p.rows_quarantined else 0 end as bigint) as rows_quarantined,
        cast(case when d.first_copy then p.rows_duplicate else coalesce(p.rows_read, 0) end as bigint) as rows_duplicate,
        -- false, not null, for a delivery not read yet (no ingest.files row): it is not accounted for
        coalesce(coalesce(p.rows_read, 0) = case when d.first_copy
            then p.rows_accepted + p.rows_quarantined + p.rows_duplicate else coalesce(p.rows_read, 0) end, false)
            as reconciled
    from deliveries d
    left join per_file p using (file_id)
)

select * from final
