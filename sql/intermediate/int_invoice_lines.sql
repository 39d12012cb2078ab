-- materialized: view
-- Grain: one row per line of a de-duplicated invoice or credit-note document: (document_id, line_id).
-- Implements METHODS 1 (only the winning copy's lines survive; the same line_id twice in that copy counts
-- once, the first record wins), METHODS 2 (scope class: goods / not_goods / unclassified) and METHODS 3
-- (purchase category). Amounts are as staged: DECIMAL(18,2), credit-note lines already negative.
-- line_copies > 1 marks a line delivered more than once in the winning file (see int_duplicate_lines).
-- The document's own attributes (type, number, date, CVR list, order number) are in int_invoice_documents.
-- A view, for reading single lines (analysts, tests): no later table reads it (they work from the passes in
-- int_invoice_file_copies and int_invoice_file_categories); scope and category from int_classified_invoice_lines.
-- A copy whose line_ids are provably distinct (int_invoice_document_copies.line_ids_distinct) keeps every
-- line; the others' kept lines are int_invoice_special_lines' (METHODS 1's per-line rule is written there only).
with invoice_lines as (
    select
        file_id,
        record_number,
        kommunekode,
        supplier_cvr,
        document_type,
        document_number,
        issue_date,
        year,
        line_id,
        amount_kr,
        scope_class,
        category
    from intermediate.int_classified_invoice_lines
),

-- the winning copies whose line_ids are provably distinct: every line counts
distinct_copies as (
    select
        document_id,
        file_id,
        kommunekode,
        supplier_cvr,
        document_type,
        document_number,
        issue_date
    from intermediate.int_invoice_document_copies
    where is_winning_copy and line_ids_distinct
),

lines_of_distinct_copies as (
    select
        distinct_copies.document_id,
        invoice_lines.file_id,
        invoice_lines.record_number,
        invoice_lines.kommunekode,
        invoice_lines.year,
        invoice_lines.supplier_cvr,
        invoice_lines.line_id,
        invoice_lines.amount_kr,
        invoice_lines.scope_class,
        invoice_lines.category,
        1 as line_copies
    from invoice_lines
    inner join distinct_copies
        on invoice_lines.file_id = distinct_copies.file_id
        and invoice_lines.kommunekode = distinct_copies.kommunekode
        and invoice_lines.supplier_cvr is not distinct from distinct_copies.supplier_cvr
        and invoice_lines.document_type = distinct_copies.document_type
        and invoice_lines.document_number = distinct_copies.document_number
        and invoice_lines.issue_date = distinct_copies.issue_date
),

-- every other winning copy may repeat a line_id: its kept lines, by the per-line rule of int_invoice_special_lines
lines_of_repeating_copies as (
    select document_id, file_id, record_number, kommunekode, year, supplier_cvr, line_id, amount_kr, scope_class,
           category, line_copies
    from intermediate.int_invoice_special_lines
    where is_kept and not line_ids_distinct
),

final as (
    select * from lines_of_distinct_copies
    union all
    select * from lines_of_repeating_copies
)

select * from final
