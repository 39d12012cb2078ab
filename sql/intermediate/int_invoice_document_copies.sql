-- Grain: one row per copy of an invoice or credit-note document, i.e. per
-- (kommunekode, supplier_cvr, document_type, document_number, issue_date) x delivered file (file_id).
-- Implements METHODS 1 (document identity): the same document delivered more than once counts once.
-- The winning copy is, in this order: a CSV finance row before an XML copy; then the later delivery
-- (delivered_at); then the later source_file name; then file_id (only to make the choice deterministic).
-- The winning copy's lines replace every line of the other copies (int_invoice_lines keeps only its lines).
-- document_id is a dense integer over the document key, used by every later table.
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
        issue_date
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
        count(*) as line_rows
    from invoice_lines
    group by kommunekode, supplier_cvr, document_type, document_number, issue_date, file_id
),

ranked as (
    select
        *,
        row_number() over copy_order as copy_rank,
        first_value(file_id) over copy_order as winning_file_id,
        first_value(source_file) over copy_order as winning_source_file,
        count(*) over (
            partition by kommunekode, supplier_cvr, document_type, document_number, issue_date
        ) as copies_delivered
    from copies
    window copy_order as (
        partition by kommunekode, supplier_cvr, document_type, document_number, issue_date
        order by
            case when source_format = 'csv' then 0 else 1 end,
            delivered_at desc nulls last,
            source_file desc,
            file_id
    )
),

final as (
    select
        dense_rank() over (
            order by kommunekode, supplier_cvr, document_type, document_number, issue_date
        ) as document_id,
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
        winning_source_file
    from ranked
)

select * from final
