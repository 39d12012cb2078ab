-- marts.mart_quarantine: one row per delivered file that could not be read at all, and per record that
-- could not be used (DATA_CONTRACT "Bad input"): source_file relative to DIR/raw, line_number (the record's
-- first line in the file, the header being line 1; null for a whole file or an XML document), reason, raw_record.
-- Line numbers: DuckDB numbers the records it reads; the records it could not split (ingest.rejected_records)
-- and line breaks inside quoted values move later records down, so both are added back here.
with deliveries as (
    select file_id, source_file, folder_kommunekode as kommunekode, kind
    from staging.stg_deliveries
    where is_first_copy
),

rejects as (
    select
        file_id,
        record_index,
        record_index - row_number() over (partition by file_id order by record_index) as accepted_before,
        length(raw_record) - length(replace(raw_record, chr(10), '')) as line_breaks,
        reason,
        raw_record
    from ingest.rejected_records
),

bad_rows as (
    select file_id, record_number, source_format, reject_reason as reason, raw_record, year
    from ingest.invoice_lines
    where reject_reason is not null
    union all
    select file_id, record_number, source_format, reject_reason, raw_record, year
    from ingest.order_lines
    where reject_reason is not null
),

files_with_problems as (
    select file_id from bad_rows where source_format = 'csv'
    union
    select file_id from rejects
),

-- records read by DuckDB whose text spans several lines (a line break inside a quoted value)
multi_line_rows as (
    select file_id, record_number,
           length(coalesce(description, '') || coalesce(supplier_name, '') || coalesce(document_number, '')
               || coalesce(order_number, ''))
           - length(replace(coalesce(description, '') || coalesce(supplier_name, '') || coalesce(document_number, '')
               || coalesce(order_number, ''), chr(10), '')) as line_breaks
    from ingest.invoice_lines
    where file_id in (select file_id from files_with_problems) and source_format = 'csv'
      and (contains(description, chr(10)) or contains(supplier_name, chr(10)))
    union all
    select file_id, record_number,
           length(coalesce(description, '') || coalesce(supplier_name, ''))
           - length(replace(coalesce(description, '') || coalesce(supplier_name, ''), chr(10), ''))
    from ingest.order_lines
    where file_id in (select file_id from files_with_problems) and source_format = 'csv'
      and (contains(description, chr(10)) or contains(supplier_name, chr(10)))
),

bad_row_positions as (
    select
        b.*,
        b.record_number + (select count(*) from rejects r where r.file_id = b.file_id and r.accepted_before < b.record_number)
            as record_index
    from bad_rows b
),

bad_row_lines as (
    select
        p.file_id,
        case when p.source_format = 'csv' then
            1 + p.record_index
            + coalesce((select sum(m.line_breaks) from multi_line_rows m
                        where m.file_id = p.file_id and m.record_number < p.record_number), 0)
            + coalesce((select sum(r.line_breaks) from rejects r
                        where r.file_id = p.file_id and r.record_index < p.record_index), 0)
        end as line_number,
        p.reason,
        p.raw_record,
        p.year
    from bad_row_positions p
),

reject_lines as (
    select
        r.file_id,
        1 + r.record_index
        + coalesce((select sum(m.line_breaks) from multi_line_rows m
                    where m.file_id = r.file_id and m.record_number <= r.accepted_before), 0)
        + coalesce((select sum(o.line_breaks) from rejects o
                    where o.file_id = r.file_id and o.record_index < r.record_index), 0) as line_number,
        r.reason,
        r.raw_record,
        cast(null as integer) as year
    from rejects r
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
