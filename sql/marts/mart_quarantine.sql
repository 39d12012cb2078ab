-- marts.mart_quarantine: one row per delivered file that could not be read at all, and per record that
-- could not be used (DATA_CONTRACT "Bad input"): source_file relative to DIR/raw, line_number (the line of the
-- file on which the record starts, the header being line 1; null for a whole file or an XML document), reason,
-- raw_record. The lines were found when the file was loaded (ingest.rejected_records, ingest.record_lines);
-- a row's line is null only when Python's csv module and DuckDB split a malformed file differently.
with deliveries as (
    select file_id, source_file, folder_kommunekode as kommunekode, kind
    from staging.stg_deliveries
    where is_first_copy
),

bad_rows as (
    select file_id, file_key, record_number, reject_reason as reason, raw_record, year
    from ingest.invoice_lines
    where reject_reason is not null
    union all
    select file_id, file_key, record_number, reject_reason, raw_record, year
    from ingest.order_lines
    where reject_reason is not null
),

bad_row_lines as (
    select bad_rows.file_id, record_lines.line_number, bad_rows.reason, bad_rows.raw_record, bad_rows.year
    from bad_rows
    left join ingest.record_lines using (file_key, record_number)
),

reject_lines as (
    select file_id, line_number, reason, raw_record, cast(null as integer) as year
    from ingest.rejected_records
),

whole_files as (
    select file_id, cast(null as bigint) as line_number, reason, cast(null as varchar) as raw_record,
           cast(null as integer) as year
    from ingest.files
    where status = 'rejected'
),

final as (
    select
        d.source_file,
        q.line_number,
        q.reason,
        q.raw_record,
        coalesce(d.kommunekode, '') as kommunekode,
        d.kind,
        q.year,
        q.file_id
    from (
        select * from whole_files
        union all select * from reject_lines
        union all select * from bad_row_lines
    ) q
    join deliveries d using (file_id)
)

select * from final
