-- materialized: incremental by kommunekode
-- Grain: one row per copy of an invoice or credit-note document (int_invoice_document_copies) that needs the
-- exact per-line rule of METHODS 1: every copy of a document whose hash is shared (a document delivered more
-- than once, or two documents whose key hashes collide in one municipality) and every copy that may repeat a
-- line_id (line_ids_distinct false). Usually a handful of the ~11 M copies.
-- A table, not a CTE of int_invoice_special_lines: its exact row count lets DuckDB build the join with the
-- ~78 M staged lines on these few copies. With the copies as a CTE, DuckDB estimated ~2 M of them, built
-- its hash table on the lines instead, and the monthly run took 40 s for 16 lines (2026-11-28, scale 1).
with final as (
    select
        document_id,
        file_id,
        kommunekode,
        supplier_cvr,
        document_type,
        document_number,
        issue_date,
        is_winning_copy,
        line_ids_distinct,
        winning_file_id,
        winning_source_file
    from intermediate.int_invoice_document_copies
    where (hash_shared or not line_ids_distinct) and in_changed_units(kommunekode)
)

select * from final
