-- Grain: one row per copy of an invoice or credit-note document, i.e. per
-- (kommunekode, supplier_cvr, document_type, document_number, issue_date) x delivered file (file_id).
-- Implements METHODS 1 (document identity): the same document delivered more than once counts once.
-- The winning copy is, in this order: a CSV finance row before an XML copy; then the later delivery
-- (delivered_at); then the later source_file name; then file_id (only to make the choice deterministic).
-- The winning copy's lines replace every line of the other copies (int_invoice_lines keeps only its lines).
-- document_id is a dense integer over the document key, used by every later table.
-- The one pass over the staged lines also carries what the document needs from its lines (year, supplier CVR
-- list, lowest order number, credited number), so that later tables work on copies, not lines, and
-- line_ids_distinct: true when the copy's line_ids are provably all different (the integers 1-64, as many
-- distinct bits as lines). Only a copy where it is false can repeat a line_id (METHODS 1: counted once);
-- those few go through the exact per-line rule in int_invoice_lines.
with invoice_lines as (
    select
        file_id,
        source_format,
        source_file,
        delivered_at,
        kommunekode,
        supplier_cvr,
        document_type,
        document_number,
        issue_date,
        year,
        supplier_cvrs,
        order_number_norm,
        credited_document_number,
        try_cast(line_id as integer) as line_number
    from staging.stg_invoice_lines
),

copies as (
    select
        kommunekode,
        supplier_cvr,
        document_type,
        document_number,
        issue_date,
        file_id,
        any_value(source_format) as source_format,
        any_value(source_file) as source_file,
        max(delivered_at) as delivered_at,
        count(*) as line_rows,
        any_value(year) as year,
        any_value(supplier_cvrs) as supplier_cvrs,
        min(order_number_norm) as order_number_norm,
        min(credited_document_number) as credited_document_number,
        coalesce(
            bool_and(coalesce(line_number between 1 and 64, false))
            and bit_count(bit_or(case when line_number between 1 and 64 then 1::ubigint << (line_number - 1) end))
                = count(*),
            false
        ) as line_ids_distinct
    from invoice_lines
    group by kommunekode, supplier_cvr, document_type, document_number, issue_date, file_id
),

-- document_id and the copy ranking: most documents come once, so only documents delivered more than once
-- are ranked by a window; the dense numbering is a row_number over the distinct document keys
documents as (
    select
        kommunekode,
        supplier_cvr,
        document_type,
        document_number,
        issue_date,
        count(*) as copies_delivered
    from copies
    group by kommunekode, supplier_cvr, document_type, document_number, issue_date
),

numbered_documents as (
    select
        *,
        row_number() over (
            order by kommunekode, supplier_cvr, document_type, document_number, issue_date
        ) as document_id
    from documents
),

numbered_copies as (
    select
        numbered_documents.document_id,
        numbered_documents.copies_delivered,
        copies.*
    from copies
    inner join numbered_documents
        on copies.kommunekode = numbered_documents.kommunekode
        and copies.supplier_cvr is not distinct from numbered_documents.supplier_cvr
        and copies.document_type = numbered_documents.document_type
        and copies.document_number = numbered_documents.document_number
        and copies.issue_date = numbered_documents.issue_date
),

single_copies as (
    select
        *,
        1 as copy_rank,
        file_id as winning_file_id,
        source_file as winning_source_file
    from numbered_copies
    where copies_delivered = 1
),

ranked_copies as (
    select
        *,
        row_number() over copy_order as copy_rank,
        first_value(file_id) over copy_order as winning_file_id,
        first_value(source_file) over copy_order as winning_source_file
    from numbered_copies
    where copies_delivered > 1
    window copy_order as (
        partition by document_id
        order by
            case when source_format = 'csv' then 0 else 1 end,
            delivered_at desc nulls last,
            source_file desc,
            file_id
    )
),

ranked as (
    select * from single_copies
    union all
    select * from ranked_copies
),

final as (
    select
        document_id,
        kommunekode,
        supplier_cvr,
        document_type,
        document_number,
        issue_date,
        file_id,
        source_format,
        source_file,
        delivered_at,
        line_rows,
        copies_delivered,
        copy_rank = 1 as is_winning_copy,
        winning_file_id,
        winning_source_file,
        year,
        supplier_cvrs,
        order_number_norm,
        credited_document_number,
        line_ids_distinct
    from ranked
)

select * from final
