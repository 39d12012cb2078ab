-- Grain: one row per staged line (file_id, record_number) of the few copies that need the exact per-line
-- rule of METHODS 1 (int_invoice_special_copies). Every other copy is the only copy of its document with
-- distinct line_ids, so all its lines count and its totals come from the one pass over the lines.
-- is_kept: the line counts (a line of the winning copy, the first record of its line_id); line_copies > 1
-- marks a line_id delivered more than once in the winning file. Scope class and category from
-- int_classified_invoice_lines (METHODS 2, 3). Read by int_invoice_documents, int_invoice_categories,
-- int_invoice_lines and int_duplicate_lines; when every document comes once with distinct line_ids it is empty and costs nothing.
with special_copies as (
    select * from intermediate.int_invoice_special_copies
),

special_lines as (
    select
        special_copies.document_id,
        special_copies.is_winning_copy,
        special_copies.line_ids_distinct,
        special_copies.winning_file_id,
        special_copies.winning_source_file,
        lines.file_id,
        lines.record_number,
        lines.source_file,
        lines.kommunekode,
        lines.year,
        lines.supplier_cvr,
        lines.document_number,
        lines.line_id,
        lines.order_number_norm,
        lines.credited_document_number,
        lines.amount_kr,
        lines.scope_class,
        lines.category
    from intermediate.int_classified_invoice_lines as lines
    inner join special_copies
        on lines.file_id = special_copies.file_id
        and lines.kommunekode = special_copies.kommunekode
        and lines.supplier_cvr is not distinct from special_copies.supplier_cvr
        and lines.document_type = special_copies.document_type
        and lines.document_number = special_copies.document_number
        and lines.issue_date = special_copies.issue_date
),

final as (
    select
        document_id,
        file_id,
        record_number,
        source_file,
        kommunekode,
        year,
        supplier_cvr,
        document_number,
        line_id,
        is_winning_copy,
        line_ids_distinct,
        winning_file_id,
        winning_source_file,
        order_number_norm,
        credited_document_number,
        amount_kr,
        scope_class,
        category,
        -- METHODS 1: in the winning copy the same line_id counts once, the first record wins
        case when is_winning_copy then count(*) over document_line end as line_copies,
        is_winning_copy and row_number() over (document_line order by record_number) = 1 as is_kept
    from special_lines
    window document_line as (
        partition by document_id, file_id, coalesce(line_id, '#' || record_number)
    )
)

select * from final
