-- materialized: incremental by kommunekode
-- Grain: one row per copy (copy_number, as in int_invoice_copy_totals) whose document_hash is
-- shared with another copy: the copies of a document delivered more than once, and any two documents whose
-- key hashes collide in one municipality. Implements METHODS 1 for them, by the exact document key
-- (kommunekode, supplier_cvr, document_type, document_number, issue_date): the winning copy is, in this order,
-- a CSV finance row before an XML copy; then the later delivery (delivered_at); then the later source_file
-- name; then file_id (only to make the choice deterministic). document_id is the lowest copy_number of the
-- document's copies. Every copy not listed here is the only copy of its document.
with copies as (
    select * from intermediate.int_invoice_copy_totals
    where in_changed_units(kommunekode)
),

-- from the per-content table itself: the hashes need no copy numbers (half the time of reading the view)
shared_hashes as (
    select document_hash
    from intermediate.int_invoice_file_copies
    where in_changed_units(kommunekode)
    group by document_hash
    having count(*) > 1
),

-- the key begins with kommunekode, so a hash shared by two municipalities' keys only is a collision between them
shared_copies as materialized (
    select * from copies
    where document_hash in (select document_hash from shared_hashes)
    qualify count(*) over (partition by kommunekode, document_hash) > 1
),

-- the delivery of the files those copies came in
files as (
    select file_id, source_format, source_file, delivered_at
    from staging.stg_files
    where file_id in (select file_id from shared_copies)
),

final as (
    select
        shared_copies.copy_number,
        shared_copies.kommunekode,
        min(shared_copies.copy_number) over document as document_id,
        count(*) over document as copies_delivered,
        row_number() over copy_order = 1 as is_winning_copy,
        first_value(shared_copies.file_id) over copy_order as winning_file_id,
        first_value(files.source_file) over copy_order as winning_source_file
    from shared_copies
    inner join files on shared_copies.file_id = files.file_id
    window
        document as (
            partition by shared_copies.kommunekode, shared_copies.supplier_cvr, shared_copies.document_type,
                shared_copies.document_number, shared_copies.issue_date
        ),
        copy_order as (
            partition by shared_copies.kommunekode, shared_copies.supplier_cvr, shared_copies.document_type,
                shared_copies.document_number, shared_copies.issue_date
            order by
                case when files.source_format = 'csv' then 0 else 1 end,
                files.delivered_at desc nulls last,
                files.source_file desc,
                shared_copies.file_id
        )
)

select * from final
